"""The seven domain services of the platform; each subpackage has the same shape."""
