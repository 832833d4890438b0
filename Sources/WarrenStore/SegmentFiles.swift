import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The message log's files: `NNNNNNNNNNNNNNNN.wlog` segments in one directory, numbered in the
/// order they were written. Thin wrappers over the system calls, so errors carry `errno`.
struct SegmentFiles {
    let directory: String

    struct IOFailure: Error, CustomStringConvertible {
        var operation: String
        var path: String
        var code: Int32

        var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
    }

    func path(of index: UInt32) -> String {
        let digits = String(index, radix: 10)
        return directory + "/" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".wlog"
    }

    /// The segment numbers present, oldest first.
    func existing() throws -> [UInt32] {
        guard let handle = opendir(directory) else {
            throw IOFailure(operation: "opendir", path: directory, code: errno)
        }
        defer { closedir(handle) }
        var indices: [UInt32] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard name.hasSuffix(".wlog"), let index = UInt32(name.dropLast(5)) else { continue }
            indices.append(index)
        }
        return indices.sorted()
    }

    func createDirectory() throws {
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw IOFailure(operation: "mkdir", path: directory, code: errno)
        }
    }

    /// Opens a new segment for appending.
    func create(_ index: UInt32) throws -> Int32 {
        let fd = open(path(of: index), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw IOFailure(operation: "open", path: path(of: index), code: errno) }
        syncDirectory()
        return fd
    }

    /// The whole segment, for replay.
    func read(_ index: UInt32) throws -> ByteBuffer {
        let path = path(of: index)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw IOFailure(operation: "open", path: path, code: errno) }
        defer { close(fd) }
        var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
        while true {
            buffer.reserveCapacity(minimumWritableBytes: 1 << 20)
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { target in
                Glibc.read(fd, target.baseAddress, target.count)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw IOFailure(operation: "read", path: path, code: errno)
            }
            if count == 0 { return buffer }
        }
    }

    /// Writes all of `bytes`, retrying short writes; on failure `bytes` keeps what was not written.
    func write(_ bytes: inout ByteBuffer, to fd: Int32, path: String) throws {
        while bytes.readableBytes > 0 {
            let written = bytes.withUnsafeReadableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw IOFailure(operation: "write", path: path, code: errno)
            }
            bytes.moveReaderIndex(forwardBy: written)
        }
    }

    func openForReading(_ index: UInt32) -> Int32? {
        let fd = open(path(of: index), O_RDONLY | O_CLOEXEC)
        return fd >= 0 ? fd : nil
    }

    /// The framed record at `offset` (header and payload), or nil if it cannot be read whole.
    func readRecord(_ fd: Int32, at offset: Int) -> ByteBuffer? {
        var header = [UInt8](repeating: 0, count: LogRecord.headerSize)
        guard pread(fd, &header, header.count, off_t(offset)) == header.count else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard length > 0, length < 1 << 30 else { return nil }
        let total = LogRecord.headerSize + length
        var buffer = ByteBufferAllocator().buffer(capacity: total)
        let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { target in
            Swift.max(0, pread(fd, target.baseAddress, total, off_t(offset)))
        }
        return read == total ? buffer : nil
    }

    func truncate(_ index: UInt32, to length: Int) throws {
        guard Glibc.truncate(path(of: index), off_t(length)) == 0 else {
            throw IOFailure(operation: "truncate", path: path(of: index), code: errno)
        }
    }

    func remove(_ index: UInt32) {
        unlink(path(of: index))
    }

    /// Makes file creations and removals in the directory durable.
    func syncDirectory() {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
