//! What the SFU reads from a client's offer before str0m takes it: each m-section's kind,
//! `mid` and direction, so that the declared send tracks can be checked and the receive
//! slots found without touching the participant's session.

/// The media kind of an m-section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Audio,
    Video,
    /// `application` (data channels) and anything else: ignored.
    Other,
}

/// The direction an m-section states, from the client's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub kind: Kind,
    pub mid: String,
    pub dir: Dir,
    /// Port 0: rejected or stopped.
    pub stopped: bool,
}

impl Section {
    /// The client sends on it.
    pub fn sends(&self) -> bool {
        !self.stopped && matches!(self.dir, Dir::SendOnly | Dir::SendRecv)
    }

    /// A receive slot: the client only receives on it.
    pub fn is_slot(&self) -> bool {
        !self.stopped && self.dir == Dir::RecvOnly && self.kind != Kind::Other
    }
}

/// The m-sections of `sdp`, in order. Sections without a `mid` are skipped (str0m
/// refuses such an offer anyway).
pub fn sections(sdp: &str) -> Vec<Section> {
    let mut out = Vec::new();
    let mut current: Option<(Kind, bool, Option<String>, Dir)> = None;
    let flush = |c: Option<(Kind, bool, Option<String>, Dir)>, out: &mut Vec<Section>| {
        if let Some((kind, stopped, Some(mid), dir)) = c {
            out.push(Section { kind, mid, dir, stopped });
        }
    };
    for line in sdp.lines().map(str::trim_end) {
        if let Some(m) = line.strip_prefix("m=") {
            flush(current.take(), &mut out);
            let mut parts = m.split(' ');
            let kind = match parts.next() {
                Some("audio") => Kind::Audio,
                Some("video") => Kind::Video,
                _ => Kind::Other,
            };
            let stopped = parts.next() == Some("0");
            current = Some((kind, stopped, None, Dir::SendRecv));
        } else if let Some(c) = current.as_mut() {
            if let Some(mid) = line.strip_prefix("a=mid:") {
                c.2 = Some(mid.to_string());
            } else {
                match line {
                    "a=sendonly" => c.3 = Dir::SendOnly,
                    "a=recvonly" => c.3 = Dir::RecvOnly,
                    "a=inactive" => c.3 = Dir::Inactive,
                    "a=sendrecv" => c.3 = Dir::SendRecv,
                    _ => {}
                }
            }
        }
    }
    flush(current.take(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kinds_mids_directions_and_stopped_sections() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1 2\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendonly\r\na=rid:h send\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=recvonly\r\n\
            m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:3\r\na=recvonly\r\n\
            m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:4\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
        let s = sections(sdp);
        assert_eq!(s.len(), 5, "the section without a mid is skipped");
        assert!(s[0].sends() && s[0].kind == Kind::Audio);
        assert!(s[1].sends() && s[1].kind == Kind::Video);
        assert!(s[2].is_slot() && !s[2].sends());
        assert!(s[3].stopped && !s[3].is_slot());
        assert_eq!((s[4].kind, s[4].dir), (Kind::Other, Dir::SendRecv));
        assert!(!s[4].is_slot());
        assert!(sections("garbage").is_empty());
    }
}
