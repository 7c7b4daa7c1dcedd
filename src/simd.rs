//! Which vector instruction sets this CPU has, detected at run time: the same build runs on
//! AVX2-only and AVX-512 CPUs, and code compiled for a set (the lane kernels of
//! `align::lanes`, the minimizer chunks of `index::minimizer`) is called only where it is
//! there. Results never depend on the answer. And the one cache hint the table lookups and
//! reference fetches give ([`prefetch`]).

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

/// The vector tier the CPU kernels run at on this CPU, as the backend line names it:
/// `AVX-512`, `AVX2`, or `scalar`.
pub(crate) fn tier() -> &'static str {
    if avx512() {
        "AVX-512"
    } else if avx2() {
        "AVX2"
    } else {
        "scalar"
    }
}

/// Asks the CPU to bring `x`'s cache line in, without waiting for it.
#[inline(always)]
pub(crate) fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it reads nothing and cannot fault, and SSE is part of
    // every x86-64 CPU.
    unsafe {
        std::arch::x86_64::_mm_prefetch(x as *const T as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}
