import AMQPWire
import NIOCore
import Testing
import WarrenCore

@testable import WarrenStore

#if canImport(Glibc)
    import Glibc
#endif

/// Runs every fsync at once on the calling thread, or holds completions until released.
final class ImmediateSyncer: StoreSyncer {
    var holding = false
    var held: [(Bool) -> Void] = []
    var syncs = 0

    func sync(_ descriptors: [Int32], completion: @escaping (Bool) -> Void) {
        syncs += 1
        if holding {
            held.append(completion)
        } else {
            for descriptor in descriptors { fsync(descriptor) }
            completion(true)
        }
    }

    func releaseAll() {
        let completions = held
        held = []
        for completion in completions { completion(true) }
    }
}

/// A fresh directory under /tmp, removed by the caller's `defer`.
func temporaryDirectory() -> String {
    var template = Array("/tmp/warren-store-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    return path
}

func removeDirectory(_ path: String) {
    _ = system("rm -rf '\(path)'")
}

func persistentMessage(_ text: String, routingKey: String = "q", expiration: String? = nil) throws -> Message {
    let body = ByteBuffer(string: text)
    let header = try ContentHeader(
        bodySize: UInt64(body.readableBytes), properties: BasicProperties(deliveryMode: 2, expiration: expiration))
    return Message(
        exchange: "", routingKey: routingKey, header: header, body: body,
        expiration: try MessageExpiration.of(header))
}

/// A broker-less set-up: one virtual host, a store, and helpers to publish like a channel does.
struct StoreFixture {
    let directory: String
    let vhost = VirtualHost(name: "/")
    let syncer = ImmediateSyncer()
    let store: MessageStore

    init(directory: String, segmentSize: Int = 1 << 20, inMemoryLimit: Int = 100_000) throws {
        self.directory = directory
        store = MessageStore(directory: directory + "/messages", segmentSize: segmentSize, syncer: syncer)
        vhost.messageLog = store
        vhost.inMemoryMessageLimit = inMemoryLimit
    }

    /// Opens the store, recovering into the queues already declared.
    func open() throws -> StoreRecovery {
        try store.open { key, message in
            guard let queue = vhost.queues[key.queue] else { return false }
            queue.recoverOne(message)
            return true
        }
    }

    @discardableResult
    func declare(_ name: String, durable: Bool = true, arguments: FieldTable = [:]) throws -> Queue {
        try vhost.declareQueue(
            name: name, passive: false, durable: durable, exclusive: false, autoDelete: false, arguments: arguments,
            connection: ConnectionID(1))
    }

    @discardableResult
    func publish(_ message: Message, to names: [String]) throws -> UInt64? {
        var message = message
        let queues = try names.map { try vhost.queue(named: $0) }
        let ticket = store.persist(&message, into: queues)
        for queue in queues { queue.enqueue(message) }
        return ticket
    }

    /// A broker's life before a restart: opens a fresh store, runs `body`, closes the store.
    static func firstLife(
        _ directory: String, segmentSize: Int = 1 << 20, inMemoryLimit: Int = 100_000,
        _ body: (StoreFixture) throws -> Void
    ) throws {
        let fixture = try StoreFixture(directory: directory, segmentSize: segmentSize, inMemoryLimit: inMemoryLimit)
        _ = try fixture.open()
        try body(fixture)
        fixture.store.close()
    }

    /// Recovers into freshly declared queues of the same names, as a restart does.
    static func restart(_ directory: String, queues: [String], segmentSize: Int = 1 << 20) throws -> (
        StoreFixture, StoreRecovery
    ) {
        let fixture = try StoreFixture(directory: directory, segmentSize: segmentSize)
        for name in queues { try fixture.declare(name) }
        let recovery = try fixture.open()
        for name in queues { try fixture.vhost.queue(named: name).finishRecovery() }
        return (fixture, recovery)
    }
}

@Suite("The persistent message log")
struct MessageStoreTests {
    @Test("persistent messages on durable queues come back in order after a restart")
    func roundTrip() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try StoreFixture.firstLife(directory) { fixture in
            try fixture.declare("q")
            for index in 0..<5 {
                try fixture.publish(try persistentMessage("m\(index)"), to: ["q"])
            }
        }
        let (fixture, recovery) = try StoreFixture.restart(directory, queues: ["q"])
        #expect(recovery.report.isEmpty)
        let queue = try fixture.vhost.queue(named: "q")
        #expect(queue.ready.map(bodyText) == ["m0", "m1", "m2", "m3", "m4"])
        #expect(queue.ready.allSatisfy { !$0.redelivered })
        queue.enqueue(try persistentMessage("later"))
        #expect(queue.ready.map(\.sequence).last == 5)
    }

    @Test("transient messages and non-durable queues are never written")
    func onlyPersistentOnDurable() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        let fixture = try StoreFixture(directory: directory)
        _ = try fixture.open()
        try fixture.declare("durable")
        try fixture.declare("transient", durable: false)
        #expect(try fixture.publish(try makeTransient("t"), to: ["durable"]) == nil)
        #expect(try fixture.publish(try persistentMessage("p"), to: ["transient"]) == nil)
        #expect(fixture.store.appendedPosition == 0)
    }

    @Test("settled messages stay gone; delivered ones return redelivered with their return count")
    func settlement() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try StoreFixture.firstLife(directory) { fixture in
            let queue = try fixture.declare("q")
            for text in ["acked", "held", "returned", "waiting"] {
                try fixture.publish(try persistentMessage(text), to: ["q"])
            }
            queue.acknowledge(try #require(queue.get(noAck: false)))
            _ = try #require(queue.get(noAck: false))
            queue.requeue([try #require(queue.get(noAck: false))])
        }
        let (fixture, _) = try StoreFixture.restart(directory, queues: ["q"])
        let ready = Array(try fixture.vhost.queue(named: "q").ready)
        #expect(ready.map(bodyText) == ["held", "returned", "waiting"])
        #expect(ready.map(\.redelivered) == [true, true, false])
        #expect(ready.map(\.deliveryCount) == [0, 1, 0])
    }

    @Test("after a restart a returned message still carries x-delivery-count on a queue with a delivery limit")
    func deliveryCountHeaderAcrossRestart() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        let arguments: FieldTable = ["x-delivery-limit": .int32(5)]
        try StoreFixture.firstLife(directory) { fixture in
            let queue = try fixture.declare("q", arguments: arguments)
            try fixture.publish(try persistentMessage("again"), to: ["q"])
            queue.requeue([try #require(queue.get(noAck: false))])
        }
        let fixture = try StoreFixture(directory: directory)
        let queue = try fixture.declare("q", arguments: arguments)
        _ = try fixture.open()
        queue.finishRecovery()
        let recovered = try #require(queue.get(noAck: true))
        #expect(recovered.redelivered)
        #expect(try recovered.message.header.properties().headers?["x-delivery-count"] == .int64(1))
    }

    @Test("a message fanned out to several durable queues is written once")
    func fanOutWrittenOnce() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        let fixture = try StoreFixture(directory: directory)
        _ = try fixture.open()
        for name in ["a", "b", "c"] { try fixture.declare(name) }
        let body = String(repeating: "x", count: 10_000)
        try fixture.publish(try persistentMessage(body), to: ["a", "b", "c"])
        #expect(fixture.store.appendedPosition < 11_000)
        try fixture.vhost.queue(named: "a").acknowledge(
            try #require(try fixture.vhost.queue(named: "a").get(noAck: false)))
        #expect(fixture.store.liveMessageCount == 1)
        _ = try fixture.vhost.queue(named: "b").purge()
        _ = try fixture.vhost.deleteQueue(name: "c", ifUnused: false, ifEmpty: false, connection: ConnectionID(1))
        #expect(fixture.store.liveMessageCount == 0)
    }

    @Test("a torn tail is truncated and reported; the records before it survive")
    func tornTail() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try StoreFixture.firstLife(directory) { fixture in
            try fixture.declare("q")
            try fixture.publish(try persistentMessage("kept"), to: ["q"])
            try fixture.publish(try persistentMessage("torn"), to: ["q"])
        }
        let segment = directory + "/messages/0000000000000001.wlog"
        let size = fileSize(segment)
        #expect(truncate(segment, off_t(size - 3)) == 0)
        let (fixture, recovery) = try StoreFixture.restart(directory, queues: ["q"])
        #expect(try fixture.vhost.queue(named: "q").ready.map(bodyText) == ["kept"])
        #expect(recovery.report.count == 2)
        #expect(recovery.report.first?.contains("0000000000000001.wlog: torn or corrupt record at offset") == true)
    }

    @Test("a corrupt record in the middle loses only itself")
    func corruptMiddle() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try StoreFixture.firstLife(directory) { fixture in
            try fixture.declare("q")
            for text in ["first", "second", "third"] {
                try fixture.publish(try persistentMessage(text), to: ["q"])
            }
        }
        let segment = directory + "/messages/0000000000000001.wlog"
        let recordSize = fileSize(segment) / 3
        flipByte(in: segment, at: recordSize + recordSize / 2)
        let (fixture, recovery) = try StoreFixture.restart(directory, queues: ["q"])
        #expect(try fixture.vhost.queue(named: "q").ready.map(bodyText) == ["first", "third"])
        #expect(recovery.report.count == 1)
    }

    @Test("segments whose messages are all settled are deleted, so disk use follows the backlog")
    func segmentsDeleted() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        let fixture = try StoreFixture(directory: directory, segmentSize: 4096)
        _ = try fixture.open()
        let queue = try fixture.declare("q")
        for index in 0..<400 {
            try fixture.publish(
                try persistentMessage("message \(index) " + String(repeating: "x", count: 100)), to: ["q"])
            if index % 20 == 0 { fixture.store.flush() }
        }
        fixture.store.flush()
        #expect(fixture.store.segmentCount > 10)
        while let message = queue.get(noAck: true) { _ = message }
        fixture.store.flush()
        #expect(fixture.store.liveMessageCount == 0)
        #expect(fixture.store.segmentCount <= 2)
    }

    @Test("one long-lived message does not keep the segments after it; restarts see the same state")
    func longLivedMessage() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try StoreFixture.firstLife(directory, segmentSize: 4096) { fixture in
            let pinned = try fixture.declare("pinned")
            let busy = try fixture.declare("busy")
            try fixture.publish(try persistentMessage("stays"), to: ["pinned"])
            for index in 0..<600 {
                // Delivered and returned mid-way, so records about it sit in a later segment that goes.
                if index == 300 { pinned.requeue([try #require(pinned.get(noAck: false))]) }
                try fixture.publish(
                    try persistentMessage("busy \(index) " + String(repeating: "x", count: 100)), to: ["busy"])
                if index % 10 == 0 {
                    fixture.store.flush()
                    while let message = busy.get(noAck: true) { _ = message }
                }
            }
            while let message = busy.get(noAck: true) { _ = message }
            fixture.store.flush()
            fixture.store.flush()
            #expect(fixture.store.segmentCount <= 4)
            #expect(fixture.store.liveMessageCount == 1)
        }
        let (fixture, recovery) = try StoreFixture.restart(directory, queues: ["pinned", "busy"])
        #expect(recovery.report.isEmpty)
        let pinned = Array(try fixture.vhost.queue(named: "pinned").ready)
        #expect(pinned.map(bodyText) == ["stays"])
        #expect(pinned.map(\.redelivered) == [true])
        #expect(pinned.map(\.deliveryCount) == [1])
        #expect(try fixture.vhost.queue(named: "busy").messageCount == 0)
    }

    @Test("a confirm ticket is released only by the fsync that covers it")
    func groupCommit() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        let fixture = try StoreFixture(directory: directory)
        _ = try fixture.open()
        try fixture.declare("q")
        var synced: [UInt64] = []
        fixture.store.onSynced = { synced.append($0) }
        fixture.syncer.holding = true
        let first = try #require(try fixture.publish(try persistentMessage("a"), to: ["q"]))
        fixture.store.flush()
        let second = try #require(try fixture.publish(try persistentMessage("b"), to: ["q"]))
        let third = try #require(try fixture.publish(try persistentMessage("c"), to: ["q"]))
        fixture.store.flush()
        #expect(fixture.syncer.syncs == 1)
        #expect(synced.isEmpty)
        fixture.syncer.releaseAll()
        #expect(synced == [first])
        #expect(fixture.syncer.syncs == 2)
        fixture.syncer.releaseAll()
        #expect(synced == [first, third])
        #expect(second < third)
    }

    @Test("a durable delayed exchange's messages survive a restart until released")
    func delayedAcrossRestart() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try StoreFixture.firstLife(directory) { fixture in
            let exchange = try fixture.vhost.declareExchange(
                name: "later", type: "x-delayed-message", passive: false, durable: true, autoDelete: false,
                isInternal: false, arguments: ["x-delayed-type": .string("fanout")])
            #expect(
                fixture.vhost.delay(
                    try persistentMessage("held"), by: 60_000, through: exchange, extraRoutingKeys: ["cc"],
                    onUnroutable: nil) != nil)
            #expect(
                fixture.vhost.delay(
                    try makeTransient("transient"), by: 60_000, through: exchange, extraRoutingKeys: [],
                    onUnroutable: nil) == nil)
        }
        let fixture = try StoreFixture(directory: directory)
        let recovery = try fixture.open()
        let held = try #require(recovery.delayed["/"]?.first)
        #expect(recovery.delayed["/"]?.count == 1)
        #expect(String(buffer: held.message.body) == "held")
        #expect(held.exchange == "later")
        #expect(held.extraRoutingKeys == ["cc"])
        #expect(held.remainingDelay > 50_000 && held.remainingDelay <= 60_000)
        #expect(fixture.store.liveMessageCount == 1)
        fixture.store.releasedDelayed(held.message.storeID, vhost: "/")
        #expect(fixture.store.liveMessageCount == 0)
    }

    @Test("a backlog beyond the in-memory limit is paged out and read back in order, transient ones included")
    func paging() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        let fixture = try StoreFixture(directory: directory, segmentSize: 8192, inMemoryLimit: 10)
        _ = try fixture.open()
        let queue = try fixture.declare("q")
        var expected: [String] = []
        for index in 0..<300 {
            let text = "m\(index)"
            expected.append(text)
            if index == 150 {
                queue.enqueue(try makeTransient(text))
            } else {
                try fixture.publish(try persistentMessage(text), to: ["q"])
            }
            if index % 50 == 0 { fixture.store.flush() }
        }
        #expect(queue.messageCount == 300)
        #expect(queue.ready.pagedCount == 289)
        var drained: [String] = []
        for _ in 0..<10 { drained.append(bodyText(try #require(queue.get(noAck: true)))) }
        // The in-memory head is used up; the next message is still paged out.
        #expect(queue.ready.first.map(bodyText) == "m10")
        while let message = queue.get(noAck: true) {
            drained.append(bodyText(message))
            if drained.count % 70 == 0 { fixture.store.flush() }
        }
        #expect(drained == expected)
        #expect(queue.ready.bytes == 0)
        fixture.store.flush()
        #expect(fixture.store.liveMessageCount == 0)
    }

    @Test("a paged-out backlog survives a restart and is paged out again")
    func pagingAcrossRestart() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try StoreFixture.firstLife(directory, inMemoryLimit: 5) { fixture in
            try fixture.declare("q")
            for index in 0..<50 {
                try fixture.publish(try persistentMessage("m\(index)"), to: ["q"])
            }
        }
        let fixture = try StoreFixture(directory: directory, inMemoryLimit: 5)
        let queue = try fixture.declare("q")
        _ = try fixture.open()
        queue.finishRecovery()
        #expect(queue.ready.pagedCount == 45)
        #expect(queue.ready.map(bodyText) == (0..<50).map { "m\($0)" })
        _ = queue.purge()
        #expect(fixture.store.liveMessageCount == 0)
    }

    @Test("a TTL keeps running while the broker is down")
    func ttlAcrossRestart() throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        try StoreFixture.firstLife(directory) { fixture in
            try fixture.declare("q")
            try fixture.publish(try persistentMessage("short", expiration: "1"), to: ["q"])
            try fixture.publish(try persistentMessage("long", expiration: "600000"), to: ["q"])
        }
        usleep(20_000)
        let (fixture, _) = try StoreFixture.restart(directory, queues: ["q"])
        let queue = try fixture.vhost.queue(named: "q")
        #expect(queue.ready.map(bodyText) == ["long"])
        #expect(fixture.store.liveMessageCount == 1)
    }
}

func makeTransient(_ text: String) throws -> Message {
    let body = ByteBuffer(string: text)
    return Message(
        exchange: "", routingKey: "q",
        header: try ContentHeader(bodySize: UInt64(body.readableBytes), properties: .init()),
        body: body)
}

func bodyText(_ message: QueuedMessage) -> String {
    String(buffer: message.message.body)
}

func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : -1
}

func flipByte(in path: String, at offset: Int) {
    let fd = open(path, O_RDWR)
    defer { close(fd) }
    var byte: UInt8 = 0
    pread(fd, &byte, 1, off_t(offset))
    byte ^= 0xFF
    pwrite(fd, &byte, 1, off_t(offset))
}
