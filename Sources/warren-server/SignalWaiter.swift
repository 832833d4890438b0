import Dispatch
import Foundation

/// Turns SIGTERM, SIGINT and SIGHUP into awaitable events, so shutdown and certificate reloads
/// run as ordinary async code.
final class SignalWaiter: @unchecked Sendable {
    // Guarded by `lock`; the dispatch sources live as long as the waiter.
    private let lock = NSLock()
    private var sources: [any DispatchSourceSignal] = []
    private var continuation: CheckedContinuation<String, Never>?
    /// Signals that arrived while nobody waited, oldest first.
    private var received: [String] = []

    init() {
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT"), (SIGHUP, "SIGHUP")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.deliver(name) }
            source.resume()
            sources.append(source)
        }
    }

    private func deliver(_ name: String) {
        lock.lock()
        let waiting = continuation
        continuation = nil
        if waiting == nil { received.append(name) }
        lock.unlock()
        waiting?.resume(returning: name)
    }

    func wait() async -> String {
        await withCheckedContinuation { continuation in
            lock.lock()
            if !received.isEmpty {
                let name = received.removeFirst()
                lock.unlock()
                continuation.resume(returning: name)
                return
            }
            self.continuation = continuation
            lock.unlock()
        }
    }
}
