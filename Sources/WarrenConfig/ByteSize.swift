/// Sizes as RabbitMQ's configuration writes them: `50000000`, `50MB`, `1GiB`, `512kB`, `2G`.
///
/// RabbitMQ's units, case-insensitive: `kB`/`MB`/`GB`/`TB` are powers of 1000; `KiB`/`MiB`/`GiB`/
/// `TiB` and the bare `k`/`M`/`G`/`T` are powers of 1024.
enum ByteSize {
    private static let units: [(String, UInt64)] = [
        ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("tib", 1 << 40),
        ("kb", 1_000), ("mb", 1_000_000), ("gb", 1_000_000_000), ("tb", 1_000_000_000_000),
        ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40),
    ]

    /// The number of bytes, or nil when the text is not a size.
    static func parse(_ text: String) -> UInt64? {
        let lowered = text.lowercased()
        for (suffix, multiplier) in units where lowered.hasSuffix(suffix) {
            let (product, overflow) =
                UInt64(lowered.dropLast(suffix.count))?.multipliedReportingOverflow(by: multiplier) ?? (0, true)
            return overflow ? nil : product
        }
        return UInt64(text)
    }
}
