//! ecs-discovery (in progress)
