//! Tellify: a self-hosted event alert dashboard.
//!
//! Build scripts and monitors POST events; the events go into a Redis stream;
//! users' handler instances turn them into alerts; digests reach users on
//! their own schedule. See DESIGN.md in the project's shared folder and the
//! README for the whole picture.

pub mod aggregate;
pub mod alerts;
pub mod auth;
pub mod broker;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod dispatch;
pub mod error;
pub mod events;
pub mod extract;
pub mod limits;
pub mod metrics;
pub mod pages;
pub mod purge;
pub mod routes;
pub mod startup;
pub mod state;
pub mod store;
pub mod trial;

pub use config::Config;
pub use startup::{Application, shutdown_signal};
