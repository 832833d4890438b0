import NIOCore

/// Frame writers that encode in place into one outbound buffer, so many deliveries share a
/// single buffer and a single flush.
extension ByteBuffer {
    /// Writes a method frame; the size field is back-patched after the payload is encoded.
    ///
    /// If the method cannot be encoded (a short string over 255 bytes), nothing is written: the
    /// buffer is shared by many frames, and half a frame in it would corrupt the stream.
    public mutating func writeMethodFrame(channel: UInt16, _ method: AMQPMethod) throws {
        let start = self.writerIndex
        self.writeInteger(FrameType.method)
        self.writeInteger(channel)
        self.writeInteger(UInt32(0))
        do {
            try method.encode(into: &self)
        } catch {
            self.moveWriterIndex(to: start)
            throw error
        }
        self.setInteger(UInt32(self.writerIndex - start - FrameType.headerSize), at: start + 3)
        self.writeInteger(FrameType.frameEnd)
    }

    public mutating func writeHeaderFrame(channel: UInt16, _ header: ContentHeader) {
        let start = self.writerIndex
        self.writeInteger(FrameType.header)
        self.writeInteger(channel)
        self.writeInteger(UInt32(0))
        header.encode(into: &self)
        self.setInteger(UInt32(self.writerIndex - start - FrameType.headerSize), at: start + 3)
        self.writeInteger(FrameType.frameEnd)
    }

    /// Writes `body` as as many body frames as `maxFrameSize` requires (none for an empty body).
    ///
    /// A `maxFrameSize` of 0 means no limit, as in `connection.tune`; a limit too small to hold any
    /// payload still makes progress one byte per frame rather than looping forever.
    public mutating func writeBodyFrames(channel: UInt16, _ body: ByteBuffer, maxFrameSize: UInt32) {
        let chunk =
            maxFrameSize == 0 ? Int(UInt32.max) : Swift.max(1, Int(maxFrameSize) - FrameType.overhead)
        var remaining = body
        while remaining.readableBytes > 0 {
            let length = Swift.min(chunk, remaining.readableBytes)
            self.writeInteger(FrameType.body)
            self.writeInteger(channel)
            self.writeInteger(UInt32(length))
            if let slice = remaining.readSlice(length: length) {
                self.writeImmutableBuffer(slice)
            }
            self.writeInteger(FrameType.frameEnd)
        }
    }

    public mutating func writeHeartbeatFrame() {
        self.writeInteger(FrameType.heartbeat)
        self.writeInteger(UInt16(0))
        self.writeInteger(UInt32(0))
        self.writeInteger(FrameType.frameEnd)
    }
}
