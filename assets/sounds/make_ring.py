"""Writes ring.wav: one ring of the incoming-call tone (a warm two-tone trill,
440 Hz and 480 Hz together, pulsed twice, then silence; 2.0 s in all), 16-bit mono
22.05 kHz, synthesised from sine waves. The app repeats it while a call rings.
Run with `python3 make_ring.py`; the output is byte-for-byte reproducible."""

import math
import struct
import wave

RATE = 22050
LENGTH = 2.0
PULSES = [(0.0, 0.4), (0.6, 0.4)]  # (start s, length s)

frames = []
for i in range(int(RATE * LENGTH)):
    t = i / RATE
    v = 0.0
    for start, dur in PULSES:
        u = t - start
        if 0.0 <= u < dur:
            # 10 ms fades so the pulses do not click.
            env = min(1.0, u / 0.01, (dur - u) / 0.01)
            v += 0.3 * env * (math.sin(2 * math.pi * 440.0 * u)
                              + math.sin(2 * math.pi * 480.0 * u))
    frames.append(struct.pack("<h", int(max(-1.0, min(1.0, v)) * 32767)))

with wave.open("ring.wav", "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(RATE)
    w.writeframes(b"".join(frames))
