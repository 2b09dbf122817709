//! Integration tests of the HTTP API against real services. One binary for
//! the whole suite, so it links once.

mod helpers;

mod auth;
mod ingest;
mod pipeline;
