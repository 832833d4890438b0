import AMQPWire

/// Where persistent messages on durable queues are recorded so they survive a crash: the
/// server's message store. The queue model only reports what happens to stored messages; the
/// log decides how to write it down.
///
/// Only durable queues report, and only for messages that carry a ``Message/storeID``.
public protocol PersistentMessageLog: AnyObject {
    /// Records `message` for the durable ones among `queues` (if it is persistent) and sets its
    /// ``Message/storeID``; returns the sync ticket a confirm for it must wait for, or nil when
    /// nothing was written.
    func persist(_ message: inout Message, into queues: [Queue]) -> UInt64?
    /// The queue is done with the message (acknowledged, rejected, expired, dropped, purged).
    func settled(_ storeID: UInt64, in queue: Queue)
    /// The message was handed to a client for the first time.
    func delivered(_ storeID: UInt64, in queue: Queue)
    /// The message came back unsettled.
    func returned(_ storeID: UInt64, in queue: Queue)
    /// The queue was deleted, with every message it held.
    func deleted(_ queue: Queue)
    /// Records a persistent message a durable `x-delayed-message` exchange holds for `delay`
    /// milliseconds, and sets its ``Message/storeID``; returns the sync ticket, or nil when
    /// nothing was written.
    func persistDelayed(_ message: inout Message, exchange: Exchange, extraRoutingKeys: [String], delay: UInt64)
        -> UInt64?
    /// The delayed message left its exchange (routed, or dropped with it).
    func releasedDelayed(_ storeID: UInt64, vhost: String)
    /// Reads a stored message back (its queue paged it out); nil if the record cannot be read.
    func load(storeID: UInt64, location: UInt64) -> Message?
}
