//! `swmap map` (not built yet).

use crate::error::{Error, Result};

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    Err(Error::Options("swmap map is not built yet".into()))
}
