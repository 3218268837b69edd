//! The `zkr` command line's modules as a library: the binary (`src/main.rs`) parses the command
//! line and dispatches to them, and tests call the services' request handlers
//! ([`cmd::l1::handle`], [`node::api::handle`]) in-process, without a socket.

pub mod cmd;
pub mod http;
pub mod node;
