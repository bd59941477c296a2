//! One integration-test binary (faster to build and link than one per file).
mod it;
