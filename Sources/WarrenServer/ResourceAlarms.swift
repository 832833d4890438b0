#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A resource alarm, as RabbitMQ raises them: while one is on, publishers are blocked.
enum ResourceAlarm: String, Comparable, CaseIterable {
    case memory
    case disk

    static func < (a: ResourceAlarm, b: ResourceAlarm) -> Bool { a.rawValue < b.rawValue }
}

/// The memory high watermark: a share of the machine's RAM, or a number of bytes.
public enum MemoryWatermark: Sendable, Equatable {
    case relative(Double)
    case absolute(UInt64)

    func limit(totalMemory: UInt64) -> UInt64 {
        switch self {
        case .relative(let fraction): UInt64(Double(totalMemory) * fraction)
        case .absolute(let bytes): bytes
        }
    }
}

/// The free disk space below which the disk alarm goes off: bytes, or a multiple of RAM.
public enum DiskFreeLimit: Sendable, Equatable {
    case absolute(UInt64)
    case relative(Double)

    func limit(totalMemory: UInt64) -> UInt64 {
        switch self {
        case .absolute(let bytes): bytes
        case .relative(let factor): UInt64(Double(totalMemory) * factor)
        }
    }
}

/// One sample of what the alarms watch.
struct ResourceUsage {
    var residentMemory: UInt64
    var totalMemory: UInt64
    /// Free bytes on the data directory's filesystem; nil when it cannot be read.
    var diskFree: UInt64?

    /// The alarms this sample raises: memory above the watermark, free disk below its limit.
    func alarms(watermark: MemoryWatermark, diskFreeLimit: DiskFreeLimit) -> Set<ResourceAlarm> {
        var alarms: Set<ResourceAlarm> = []
        if residentMemory > watermark.limit(totalMemory: totalMemory) { alarms.insert(.memory) }
        if let diskFree, diskFree < diskFreeLimit.limit(totalMemory: totalMemory) { alarms.insert(.disk) }
        return alarms
    }

    /// Reads this process's resident set (`/proc/self/statm`), the machine's RAM and the free
    /// space under `directory`.
    static func sample(directory: String) -> ResourceUsage {
        let pageSize = UInt64(max(1, sysconf(Int32(_SC_PAGESIZE))))
        let totalMemory = UInt64(max(0, sysconf(Int32(_SC_PHYS_PAGES)))) * pageSize
        var resident: UInt64 = 0
        if let file = fopen("/proc/self/statm", "r") {
            var size: UInt = 0
            var pages: UInt = 0
            if withUnsafeMutablePointer(
                to: &size,
                { sizePointer in
                    withUnsafeMutablePointer(to: &pages) { pagesPointer in
                        withVaList([sizePointer, pagesPointer]) { vfscanf(file, "%lu %lu", $0) }
                    }
                }) == 2
            {
                resident = UInt64(pages) * pageSize
            }
            fclose(file)
        }
        var stats = statvfs()
        let diskFree = statvfs(directory, &stats) == 0 ? UInt64(stats.f_bavail) * UInt64(stats.f_frsize) : nil
        return ResourceUsage(residentMemory: resident, totalMemory: totalMemory, diskFree: diskFree)
    }
}

extension Set where Element == ResourceAlarm {
    /// The reason `connection.blocked` gives, in RabbitMQ's wording: "low on memory", "low on
    /// disk", or both joined by " & " in name order.
    var blockedReason: String {
        "low on " + sorted().map(\.rawValue).joined(separator: " & ")
    }
}
