//! Integration tests of the HTTP API against real services. One binary for
//! the whole suite, so it links once.

mod handlers_api;
mod helpers;

mod auth;
mod digests;
mod ingest;
mod pages;
mod pipeline;
