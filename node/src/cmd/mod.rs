//! One module per subcommand.

pub mod bench;
pub mod circuit;
pub mod example;
pub mod prove;
pub mod setup;
pub mod util;
pub mod verify;
