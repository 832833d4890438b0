import NIOCore
import WarrenCore

/// Message-expiry timers on the broker's event loop: a queue asks for its next deadline, and
/// the timer hands control back to the queue on the same loop.
final class LoopExpiryScheduler: ExpiryScheduler {
    private let loop: any EventLoop
    private let clock = MonotonicClock()
    /// Runs after each timer, so that what the expiry caused is flushed to the clients.
    var afterFiring: (() -> Void)?

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func schedule(_ queue: Queue, at deadline: UInt64) {
        let now = clock.milliseconds()
        let delay = deadline > now ? Int64(deadline - now) : 0
        loop.assumeIsolated().scheduleTask(in: .milliseconds(delay)) { [weak queue, weak self] in
            queue?.expiryTimerFired()
            self?.afterFiring?()
        }
    }
}
