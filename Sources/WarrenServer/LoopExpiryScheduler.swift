import NIOCore
import WarrenCore

/// Timers on the broker's event loop: a queue (or the delayed messages of a virtual host) asks
/// for its next deadline, and the timer hands control back on the same loop.
final class LoopExpiryScheduler: ExpiryScheduler {
    private let loop: any EventLoop
    private let clock = MonotonicClock()
    /// Runs after each timer, so that what the expiry caused is flushed to the clients.
    var afterFiring: (() -> Void)?

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func schedule(at deadline: UInt64, _ action: @escaping () -> Void) {
        let now = clock.milliseconds()
        let delay = deadline > now ? Int64(deadline - now) : 0
        loop.assumeIsolated().scheduleTask(in: .milliseconds(delay)) { [weak self] in
            action()
            self?.afterFiring?()
        }
    }
}
