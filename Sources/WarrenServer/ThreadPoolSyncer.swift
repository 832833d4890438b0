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
final class ThreadPoolSyncer: StoreSyncer {
    private let loop: any EventLoop

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func sync(_ descriptors: [Int32], completion: @escaping (Bool) -> Void) {
        let callback = NIOLoopBound(completion, eventLoop: loop)
        let loop = self.loop
        NIOThreadPool.singleton.submit { state in
            var succeeded = state == .active
            for descriptor in descriptors where fsync(descriptor) != 0 {
                succeeded = false
            }
            loop.execute { callback.value(succeeded) }
        }
    }
}
