extension WarrenServer {
    /// The management API's handle on this broker.
    public var administration: BrokerAdministration {
        BrokerAdministration(loop: loop, broker: broker)
    }
}
