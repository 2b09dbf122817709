//! Integration tests of the HTTP API against real services. One binary for
//! the whole suite, so it links once.

mod handlers_api;
mod helpers;

mod auth;
mod browser;
mod channels;
mod digests;
mod faults;
mod ingest;
mod limits;
mod matrix;
mod pages;
mod pipeline;
mod purge;
mod purge_page;
mod trial;
