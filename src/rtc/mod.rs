//! Real-time media: the embedded TURN relay. (Calls are peer-to-peer; the relay carries
//! them when the peers cannot reach each other.)

pub mod turn;
