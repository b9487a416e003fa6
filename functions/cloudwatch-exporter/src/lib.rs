//! cloudwatch-exporter (in progress)
