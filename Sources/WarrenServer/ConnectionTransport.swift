import NIOCore

/// What an ``AMQPConnection`` needs from its socket; the NIO handler provides it, tests fake it.
protocol ConnectionTransport: AnyObject {
    /// Writes and flushes the bytes.
    func write(_ bytes: ByteBuffer)
    /// Writes the bytes, then closes the socket once they are out.
    func writeAndClose(_ bytes: ByteBuffer)
    /// Closes the socket now.
    func close()
    /// Closes the socket after `seconds` unless it closed before: a peer that never answers
    /// our `connection.close` with `close-ok` does not keep its resources.
    func closeAfter(seconds: Double)
    /// False while the socket's send buffer is above its high-water mark (a slow reader).
    var isWritable: Bool { get }
    /// Starts sending heartbeats and watching for the peer's, every `seconds` (0 = never).
    func startHeartbeats(seconds: UInt16)
    /// Raises the frame decoder's limit to the negotiated `frame_max`.
    func setMaxFrameSize(_ size: UInt32)
    /// Stops or resumes reading from the socket (a publisher blocked by a resource alarm). The
    /// peer's heartbeats are not expected while reading is stopped.
    func setReading(_ reading: Bool)
}
