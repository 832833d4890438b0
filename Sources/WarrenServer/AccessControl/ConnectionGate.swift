import WarrenCore

/// What the connection handshake asks of the broker: whether a login is good, and whether
/// the user may open the virtual host. A protocol so the handshake stays a pure state machine
/// that tests drive without a broker.
protocol ConnectionGate: AnyObject {
    func authenticate(username: String, password: String) -> AccessControl.Authentication
    func authenticate(certificateUser: String) -> AccessControl.Authentication
    /// The user's rights in `vhost`, or the 530 NOT_ALLOWED error `connection.open` fails with.
    func admit(_ user: User, to vhost: String) -> Result<ResourceAccess, AMQPError>
}
