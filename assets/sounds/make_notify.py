"""Writes notify.wav: a short two-note chime (E6 then A6, 0.35 s), 16-bit mono
22.05 kHz, synthesised from sine waves with a soft attack and exponential decay.
Run with `python3 make_notify.py`; the output is byte-for-byte reproducible."""

import math
import struct
import wave

RATE = 22050
NOTES = [(1318.51, 0.0, 0.20), (1760.00, 0.12, 0.23)]  # (Hz, start s, length s)
LENGTH = 0.35

frames = []
for i in range(int(RATE * LENGTH)):
    t = i / RATE
    v = 0.0
    for freq, start, dur in NOTES:
        u = t - start
        if 0.0 <= u < dur:
            attack = min(1.0, u / 0.005)
            decay = math.exp(-u * 14.0)
            v += 0.35 * attack * decay * (math.sin(2 * math.pi * freq * u)
                                          + 0.25 * math.sin(4 * math.pi * freq * u))
    frames.append(struct.pack("<h", int(max(-1.0, min(1.0, v)) * 32767)))

with wave.open("notify.wav", "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(RATE)
    w.writeframes(b"".join(frames))
