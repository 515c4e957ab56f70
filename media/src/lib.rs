//! Natter's calls: WebRTC, audio and video capture and codecs. Not built yet.
