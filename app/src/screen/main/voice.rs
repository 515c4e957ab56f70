//! Voice messages: the composer's 🎤 records from the microphone chosen in the
//! settings (or the test tone there, on machines without one); Send uploads the
//! clip and sends it through the outbox, Cancel throws it away. A voice bubble's
//! ▶ downloads the clip, decodes it and plays it on the chosen speaker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iced::{Subscription, Task};
use natter_i18n::{Arg, I18n};
use natter_media::AudioSource;
use natter_media::voice::{self, MAX_LENGTH, Recorder};
use natter_net::Client;
use natter_proto::model::{ConversationId, FileRef, MessageBody};

use super::attach::{self, AttachError};
use super::{Main, Message as MainMessage};
use crate::app::Shared;

/// A recording in progress, for the conversation it was started in.
#[derive(Debug)]
pub struct Recording {
    recorder: Shared<Mutex<Option<Recorder>>>,
    conversation: ConversationId,
    started: Instant,
}

/// Voice message messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// Start recording.
    Record,
    /// The microphone opened (or why not).
    Started(
        ConversationId,
        Result<Shared<Mutex<Option<Recorder>>>, String>,
    ),
    /// Redraw the running time; stop at the longest length.
    Tick,
    /// Stop and send.
    Send,
    /// Stop and throw away.
    Cancel,
    /// Play a received (or sent) clip.
    Play(FileRef),
    /// Stop the clip playing.
    Stop,
    /// Playing ended, or why it could not start.
    Played(Result<(), PlayError>),
}

/// Why a clip did not play.
#[derive(Debug, Clone)]
pub enum PlayError {
    /// It could not be fetched from the relay.
    Download(natter_net::Error),
    /// The file or the speaker failed (the media layer's words).
    Device(String),
}

impl Main {
    /// Handles voice message messages.
    pub(super) fn update_voice(&mut self, message: Message, i18n: &I18n) -> Task<MainMessage> {
        match message {
            Message::Record => {
                let Some(conversation) = self.selected else {
                    return Task::none();
                };
                if self.recording.is_some() {
                    return Task::none();
                }
                let source = if self.devices.synthetic {
                    AudioSource::Tone { hz: 440.0 }
                } else {
                    AudioSource::Device(self.devices.microphone.clone())
                };
                Task::perform(
                    async move {
                        tokio::task::spawn_blocking(move || Recorder::start(source))
                            .await
                            .map_err(|e| e.to_string())
                            .and_then(|r| r.map_err(|e| e.to_string()))
                            .map(|r| Shared(Arc::new(Mutex::new(Some(r)))))
                    },
                    move |r| MainMessage::Voice(Message::Started(conversation, r)),
                )
            }
            Message::Started(conversation, Ok(recorder)) => {
                self.notice.set(None);
                self.recording = Some(Recording {
                    recorder,
                    conversation,
                    started: Instant::now(),
                });
                Task::none()
            }
            Message::Started(_, Err(e)) => {
                self.notice.set(Some(i18n.tr_args(
                    "voice-no-microphone",
                    &[("error", Arg::from(crate::device_text(i18n, &e)))],
                )));
                Task::none()
            }
            Message::Tick => match &self.recording {
                Some(r) if r.started.elapsed() >= MAX_LENGTH => {
                    self.update_voice(Message::Send, i18n)
                }
                _ => Task::none(),
            },
            Message::Cancel => {
                // Dropping the recorder stops it.
                self.recording = None;
                Task::none()
            }
            Message::Send => {
                let (Some(recording), Some(client)) = (self.recording.take(), self.client.clone())
                else {
                    return Task::none();
                };
                self.notice.set(Some(i18n.tr("chat-attach-uploading")));
                Task::perform(send_voice(client, recording), |r| {
                    MainMessage::Attach(attach::Message::Sent(r))
                })
            }
            Message::Play(file) => {
                let Some(client) = self.client.clone() else {
                    return Task::none();
                };
                let stop = Arc::new(AtomicBool::new(false));
                self.playing = Some((file.id.clone(), stop.clone()));
                let speaker = self.devices.speaker.clone();
                Task::perform(play(client, file, speaker, stop), |r| {
                    MainMessage::Voice(Message::Played(r))
                })
            }
            Message::Stop => {
                if let Some((_, stop)) = &self.playing {
                    stop.store(true, Ordering::Release);
                }
                Task::none()
            }
            Message::Played(result) => {
                self.playing = None;
                if let Err(e) = result {
                    let detail = match &e {
                        PlayError::Download(e) => crate::error_text(i18n, &self.account.server, e),
                        PlayError::Device(e) => crate::device_text(i18n, e),
                    };
                    self.notice.set(Some(
                        i18n.tr_args("voice-cannot-play", &[("error", Arg::from(detail))]),
                    ));
                }
                Task::none()
            }
        }
    }

    /// Ticks while recording, so the running time shows.
    pub(super) fn voice_subscription(&self) -> Subscription<MainMessage> {
        if self.recording.is_some() {
            iced::time::every(Duration::from_millis(250)).map(|_| MainMessage::Voice(Message::Tick))
        } else {
            Subscription::none()
        }
    }

    /// How long the recording in `conversation` has run, if one does.
    pub(super) fn recording_in(&self, conversation: ConversationId) -> Option<Duration> {
        self.recording
            .as_ref()
            .filter(|r| r.conversation == conversation)
            .map(|r| r.started.elapsed())
    }

    /// The clip playing, by file id.
    pub(super) fn playing_id(&self) -> Option<&str> {
        self.playing.as_ref().map(|(id, _)| id.as_str())
    }
}

/// Stops the recording, uploads the clip and queues the voice message.
async fn send_voice(client: Client, recording: Recording) -> Result<(), AttachError> {
    let recorder = recording.recorder.0.lock().ok().and_then(|mut r| r.take());
    let Some(recorder) = recorder else {
        return Err(AttachError::Voice(
            "the recording was already stopped".into(),
        ));
    };
    let note = tokio::task::spawn_blocking(move || recorder.finish())
        .await
        .map_err(|e| AttachError::Voice(e.to_string()))?
        .map_err(|e| AttachError::Voice(e.to_string()))?;
    let file = client
        .upload("voice.natvoice", "audio/x-natter-voice", note.bytes)
        .await?;
    let body = MessageBody::Voice {
        file,
        duration_ms: note.duration_ms,
    };
    client.send(recording.conversation, body, None).await?;
    Ok(())
}

/// Downloads, decodes and plays a clip; returns once it has played or was
/// stopped.
async fn play(
    client: Client,
    file: FileRef,
    speaker: Option<String>,
    stop: Arc<AtomicBool>,
) -> Result<(), PlayError> {
    let device = |e: String| PlayError::Device(e);
    let bytes = client
        .download(&file.id)
        .await
        .map_err(PlayError::Download)?;
    let clip = tokio::task::spawn_blocking(move || voice::decode(&bytes))
        .await
        .map_err(|e| device(e.to_string()))?
        .map_err(|e| device(e.to_string()))?;
    let (failed, failure) = tokio::sync::oneshot::channel();
    clip.play_until(speaker, stop, move |e| {
        let _ = failed.send(e.to_string());
    });
    // The error callback is dropped unused once the clip has played.
    match failure.await {
        Ok(e) => Err(device(e)),
        Err(_) => Ok(()),
    }
}
