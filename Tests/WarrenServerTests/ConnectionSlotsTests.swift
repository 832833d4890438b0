import Testing

@testable import WarrenServer

/// `connection_max`: sockets beyond the limit wait, in order, and a socket that closes while
/// waiting gives up its place.
@Suite("Connection slots")
struct ConnectionSlotsTests {
    final class Socket {}

    @Test("beyond the limit sockets wait in arrival order; one closing while it waits leaves the queue")
    func waiting() {
        let slots = ConnectionSlots(limit: 2)
        let sockets = (0..<5).map { _ in Socket() }
        var started: [Int] = []
        let admitted = sockets.indices.map { index in
            slots.acquire(ObjectIdentifier(sockets[index])) { started.append(index) }
        }
        #expect(admitted == [true, true, false, false, false])
        slots.release(ObjectIdentifier(sockets[3]), started: false)
        slots.release(ObjectIdentifier(sockets[0]), started: true)
        #expect(started == [2])
        slots.release(ObjectIdentifier(sockets[1]), started: true)
        #expect(started == [2, 4])
        #expect(slots.inUse == 2)
        slots.release(ObjectIdentifier(sockets[2]), started: true)
        #expect(slots.inUse == 1)
    }

    @Test("without a limit every socket is served at once")
    func unlimited() {
        let slots = ConnectionSlots(limit: nil)
        let sockets = (0..<100).map { _ in Socket() }
        #expect(sockets.allSatisfy { slots.acquire(ObjectIdentifier($0)) {} })
    }
}
