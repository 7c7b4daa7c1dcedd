//! Which vector instruction sets this CPU has, detected at run time: the same build runs on
//! the AVX2-only and the AVX-512 machines, and code compiled for a set (the lane kernels of
//! `align::lanes`, the minimizer chunks of `index::minimizer`) is called only where it is
//! there. Results never depend on the answer.

/// AVX2.
pub(crate) fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The AVX-512 subsets code compiled with `avx512f,avx512bw,avx512vl,avx2` needs.
pub(crate) fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
