/// Latencies in microsecond buckets up to one second (and one overflow bucket): fixed memory
/// whatever the message count, exact enough for p50/p99/p99.9.
struct LatencyHistogram {
    private(set) var buckets = [UInt64](repeating: 0, count: 1_000_001)
    private(set) var count: UInt64 = 0

    mutating func record(microseconds: Int) {
        buckets[min(max(microseconds, 0), buckets.count - 1)] += 1
        count += 1
    }

    mutating func merge(_ other: LatencyHistogram) {
        for index in buckets.indices where other.buckets[index] != 0 {
            buckets[index] += other.buckets[index]
        }
        count += other.count
    }

    func percentile(_ fraction: Double) -> Double? {
        guard count > 0 else { return nil }
        let target = UInt64((Double(count) * fraction).rounded(.up))
        var seen: UInt64 = 0
        for (index, bucket) in buckets.enumerated() where bucket != 0 {
            seen += bucket
            if seen >= max(target, 1) { return Double(index) }
        }
        return Double(buckets.count - 1)
    }
}
