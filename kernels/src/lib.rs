//! CUDA C sources of the zkdl GPU backend.
//!
//! The kernels live here as strings and are compiled at run time by NVRTC (through cudarc with
//! dynamic loading), so nothing in the build needs a CUDA toolkit. No kernel exists yet: the GPU
//! backend is built by its own issue, and no placeholder stands here in the meantime.
