//! Pod Security Standards (being written).
