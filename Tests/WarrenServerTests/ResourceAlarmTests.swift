import AMQPWire
import NIOCore
import Testing
import WarrenCore

@testable import WarrenServer

@Suite("Resource alarms and blocked publishers")
struct ResourceAlarmTests {
    static let blockingClient: FieldTable = [
        "capabilities": .table(["connection.blocked": .bool(true), "publisher_confirms": .bool(true)])
    ]

    @Test("the memory watermark and the disk free limit each raise their alarm")
    func thresholds() {
        let gigabyte: UInt64 = 1 << 30
        let usage = ResourceUsage(residentMemory: 700 << 20, totalMemory: gigabyte, diskFree: 40_000_000)
        #expect(usage.alarms(watermark: .relative(0.6), diskFreeLimit: .absolute(50_000_000)) == [.memory, .disk])
        #expect(usage.alarms(watermark: .relative(0.7), diskFreeLimit: .absolute(30_000_000)).isEmpty)
        #expect(usage.alarms(watermark: .absolute(600 << 20), diskFreeLimit: .relative(0.05)) == [.memory, .disk])
        let unreadableDisk = ResourceUsage(residentMemory: 0, totalMemory: gigabyte, diskFree: nil)
        #expect(unreadableDisk.alarms(watermark: .relative(0.6), diskFreeLimit: .absolute(1)).isEmpty)
        #expect(Set<ResourceAlarm>([.memory, .disk]).blockedReason == "low on disk & memory")
        #expect(Set<ResourceAlarm>([.memory]).blockedReason == "low on memory")
    }

    @Test("this process's memory and the data directory's free space can be read")
    func sample() {
        let usage = ResourceUsage.sample(directory: ".")
        #expect(usage.residentMemory > 0)
        #expect(usage.totalMemory > usage.residentMemory)
        #expect(usage.diskFree != nil)
    }

    @Test("a publisher is blocked at its next publish and told why; it is unblocked when the alarm clears")
    func blockAndUnblock() throws {
        let client = TestClient()
        try client.handshake(clientProperties: Self.blockingClient)
        try client.openChannel()
        try client.declareQueue("q")
        client.broker.setAlarms([.memory])
        #expect(client.transport.isReading)
        let frames = try client.publish(routingKey: "q", body: "during alarm")
        #expect(methods(frames) == [.connectionBlocked(Spec.Connection.Blocked(reason: "low on memory"))])
        #expect(!client.transport.isReading)
        client.broker.setAlarms([])
        client.broker.flushPending()
        #expect(methods(try client.received()) == [.connectionUnblocked(.init())])
        #expect(client.transport.isReading)
    }

    @Test("a connection that does not publish keeps reading; one without the capability is not told")
    func consumersAndOldClients() throws {
        let broker = TestClient.makeBroker()
        let consumer = TestClient(broker: broker)
        try consumer.handshake()
        try consumer.openChannel()
        try consumer.declareQueue("q")
        broker.setAlarms([.disk])
        try consumer.send(.basicGet(.init(queue: "q", noAck: true)))
        #expect(consumer.transport.isReading)
        let publisher = TestClient(broker: broker)
        try publisher.handshake()
        try publisher.openChannel()
        #expect(try publisher.publish(routingKey: "q", body: "m").isEmpty)
        #expect(!publisher.transport.isReading)
        broker.setAlarms([])
        broker.flushPending()
        #expect(try publisher.received().isEmpty)
        #expect(publisher.transport.isReading)
    }
}
