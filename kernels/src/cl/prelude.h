/* The prelude of every zkdl kernel: one source, compiled as CUDA C++ by NVRTC (where
 * __CUDACC_RTC__ is defined) or as OpenCL C 1.2 by an OpenCL driver (PoCL in CI).
 *
 * KERNEL marks an entry point (extern "C" so NVRTC does not mangle its name), DEVICE a helper,
 * GLOBAL a pointer into device memory, LOCAL work-group memory (declared at kernel scope: OpenCL
 * C 1.2 has no generic address space, so helpers take and return values, never LOCAL pointers
 * they did not declare), BARRIER() a work-group barrier over local memory. GLOBAL_ID() etc. are
 * the first dimension's indices. MULHI64(a, b) is the high word of the 128-bit product a * b.
 * ATOMIC_INC(p) adds 1 to the 32-bit word *p in global memory atomically and returns its old value
 * (OpenCL 1.1's atomic_inc, CUDA's atomicAdd).
 */
#ifdef __CUDACC_RTC__
typedef unsigned long long u64;
typedef unsigned int u32;
typedef long long i64;
#define KERNEL extern "C" __global__
#define DEVICE __device__ __forceinline__
#define GLOBAL
#define LOCAL __shared__
#define CONSTANT
#define BARRIER() __syncthreads()
#define GLOBAL_ID() ((u64)blockIdx.x * (u64)blockDim.x + (u64)threadIdx.x)
#define LOCAL_ID() ((u64)threadIdx.x)
#define GROUP_ID() ((u64)blockIdx.x)
#define LOCAL_SIZE() ((u64)blockDim.x)
#define NUM_GROUPS() ((u64)gridDim.x)
#define MULHI64(a, b) __umul64hi((a), (b))
#define ATOMIC_INC(p) atomicAdd((p), 1u)
#else
typedef ulong u64;
typedef uint u32;
typedef long i64;
#define KERNEL __kernel
#define DEVICE inline
#define GLOBAL __global
#define LOCAL __local
#define CONSTANT __constant
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define GLOBAL_ID() ((u64)get_global_id(0))
#define LOCAL_ID() ((u64)get_local_id(0))
#define GROUP_ID() ((u64)get_group_id(0))
#define LOCAL_SIZE() ((u64)get_local_size(0))
#define NUM_GROUPS() ((u64)get_num_groups(0))
#define MULHI64(a, b) mul_hi((u64)(a), (u64)(b))
#define ATOMIC_INC(p) atomic_inc(p)
#endif

/* The work-group size every kernel of zkdl is launched with; LOCAL arrays are sized by it. */
#define GROUP_SIZE 256
