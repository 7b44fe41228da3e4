//! What this machine is: CPU model name, SIMD features the OS lets us use, cache sizes.

/// The CPU model from `/proc/cpuinfo` ("model name" on x86, "CPU part"/"Hardware" as a
/// fallback elsewhere), or `"unknown"`.
pub fn model() -> String {
    let Ok(text) = std::fs::read_to_string("/proc/cpuinfo") else {
        return "unknown".to_string();
    };
    let field = |key: &str| {
        text.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == key && !v.trim().is_empty()).then(|| v.trim().to_string())
        })
    };
    field("model name")
        .or_else(|| field("Hardware"))
        .or_else(|| field("CPU part").map(|p| format!("CPU part {p}")))
        .unwrap_or_else(|| "unknown".to_string())
}

/// The transparent huge page mode (`always`, `madvise` or `never`, the bracketed word of
/// `/sys/kernel/mm/transparent_hugepage/enabled`), or `"unavailable"`.
pub fn thp_mode() -> String {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .ok()
        .and_then(|t| {
            let (_, rest) = t.split_once('[')?;
            Some(rest.split_once(']')?.0.to_string())
        })
        .unwrap_or_else(|| "unavailable".to_string())
}

/// Bytes of this process's anonymous memory on transparent huge pages now (`AnonHugePages`
/// of `/proc/self/smaps_rollup`), or `None` where that file is missing.
pub fn anon_huge_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    let line = text.lines().find(|l| l.starts_with("AnonHugePages:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The target architecture this binary was built for (`x86_64`, `aarch64`, ...).
pub fn arch() -> &'static str {
    std::env::consts::ARCH
}

/// SIMD-related CPU features detected at run time (CPUID + OS support), in a fixed order.
pub fn features() -> Vec<&'static str> {
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($f:tt),* $(,)?) => {
                $(if std::arch::is_x86_feature_detected!($f) { found.push($f); })*
            };
        }
        probe!(
            "sse2",
            "sse3",
            "ssse3",
            "sse4.1",
            "sse4.2",
            "popcnt",
            "avx",
            "f16c",
            "fma",
            "bmi1",
            "bmi2",
            "avx2",
            "avxvnni",
            "avx512f",
            "avx512cd",
            "avx512dq",
            "avx512bw",
            "avx512vl",
            "avx512ifma",
            "avx512vbmi",
            "avx512vbmi2",
            "avx512vnni",
            "avx512bitalg",
            "avx512vpopcntdq",
            "avx512bf16",
            "avx512fp16",
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! probe {
            ($($f:tt),* $(,)?) => {
                $(if std::arch::is_aarch64_feature_detected!($f) { found.push($f); })*
            };
        }
        probe!("neon", "fp16", "fhm", "dotprod", "i8mm", "bf16", "sve", "sve2");
    }
    found
}

/// Size in bytes of the largest per-core cache level below L3 (L2 on current CPUs), from
/// sysfs; `None` when it cannot be read.
pub fn l2_bytes() -> Option<usize> {
    let dir = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    let mut best = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let read = |name: &str| std::fs::read_to_string(entry.path().join(name)).ok();
        if read("level").as_deref().map(str::trim) != Some("2") {
            continue;
        }
        let size = read("size")?;
        let size = size.trim();
        let bytes = if let Some(k) = size.strip_suffix('K') {
            k.parse::<usize>().ok()? << 10
        } else if let Some(m) = size.strip_suffix('M') {
            m.parse::<usize>().ok()? << 20
        } else {
            size.parse().ok()?
        };
        best = best.max(Some(bytes));
    }
    best
}
