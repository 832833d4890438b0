/// Sizes as RabbitMQ's configuration writes them: `50000000`, `50MB`, `1GiB`, `512kB`.
enum ByteSize {
    private static let units: [(String, UInt64)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
        ("kB", 1_000), ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
    ]

    /// The number of bytes, or nil when the text is not a size.
    static func parse(_ text: String) -> UInt64? {
        for (suffix, multiplier) in units where text.hasSuffix(suffix) {
            let (product, overflow) =
                UInt64(text.dropLast(suffix.count))?.multipliedReportingOverflow(by: multiplier)
                ?? (0, true)
            return overflow ? nil : product
        }
        return UInt64(text)
    }
}
