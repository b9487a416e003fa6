//! config-updater (in progress)
