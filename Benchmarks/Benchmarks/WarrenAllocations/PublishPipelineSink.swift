import AMQPWire
import NIOCore
import WarrenCore

/// The end of a pipeline behind `ByteToMessageHandler(FrameDecoder())`: assembles each
/// publish from its frames and routes it, as `AMQPConnectionHandler` and `AMQPConnection` do
/// behind `ServerFrameDecoder`.
///
/// Each decoded frame reaches it wrapped in `NIOAny`, which is what the server pays for per frame.
final class PublishPipelineSink: ChannelInboundHandler {
    typealias InboundIn = Frame

    private let broker: BrokerFixture
    private var publish: Spec.Basic.Publish?
    private var header: ContentHeader?

    init(broker: BrokerFixture) {
        self.broker = broker
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .method(_, .basicPublish(let method)):
            publish = method
        case .header(_, let contentHeader):
            header = contentHeader
        case .body(_, let body):
            guard let publish, let header else { fatalError("body frame before method and header") }
            self.publish = nil
            self.header = nil
            broker.route(publish, header: header, body: body)
        default:
            fatalError("unexpected frame")
        }
    }
}
