import AMQPWire

/// A route from a source exchange to a destination, selected by routing key or header arguments.
///
/// Two bindings are the same binding when source, destination, key and arguments all match,
/// as in RabbitMQ, so re-binding is idempotent.
public struct Binding: Hashable {
    public var destination: BindingDestination
    public var routingKey: String
    public var arguments: FieldTable

    public init(destination: BindingDestination, routingKey: String, arguments: FieldTable) {
        self.destination = destination
        self.routingKey = routingKey
        self.arguments = arguments
    }
}
