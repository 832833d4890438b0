import NIOCore
import NIOPosix
import WarrenStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs the message store's fsyncs on NIO's blocking-I/O thread pool and reports back on the
/// broker's loop, which never waits for a disk.
///
/// With a `delay`, each fsync starts that long after it was asked for, so that more writes
/// share it (fewer syncs, later confirms); the default of zero syncs as soon as possible.
final class ThreadPoolSyncer: StoreSyncer {
    private let loop: any EventLoop
    private let delay: TimeAmount

    init(loop: any EventLoop, delay: TimeAmount = .zero) {
        self.loop = loop
        self.delay = delay
    }

    func sync(_ descriptors: [Int32], completion: @escaping (Bool) -> Void) {
        let callback = NIOLoopBound(completion, eventLoop: loop)
        let loop = self.loop
        let start = {
            NIOThreadPool.singleton.submit { state in
                var succeeded = state == .active
                for descriptor in descriptors where fsync(descriptor) != 0 {
                    succeeded = false
                }
                let result = succeeded
                loop.execute { callback.value(result) }
            }
        }
        if delay > .zero {
            loop.assumeIsolated().scheduleTask(in: delay, start)
        } else {
            start()
        }
    }
}
