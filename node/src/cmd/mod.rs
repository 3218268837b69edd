//! One module per subcommand.

pub mod circuit;
