import AMQPWire
import NIOCore

/// The connection-level protocol before and around the open state: protocol header,
/// start/start-ok (authentication), tune/tune-ok, open/open-ok, and close in both directions.
///
/// A pure state machine: each event returns the action the connection must perform, so every
/// path (bad header, wrong password, limits the client may not raise) is tested without sockets.
struct ConnectionHandshake {
    enum State: Equatable {
        case awaitingProtocolHeader
        case awaitingStartOk
        /// A password is being checked by a backend off the loop (Cyrus SASL).
        case authenticating(mechanism: String)
        case awaitingTuneOk(user: String)
        case awaitingOpen(user: String)
        case open(user: String, vhost: String)
        /// We sent connection.close and wait for close-ok; everything else is discarded.
        case closing
        case closed
    }

    enum Action: Equatable {
        case send(AMQPMethod)
        /// Send the method, then close the socket once it is written.
        case sendAndClose(AMQPMethod)
        /// Write the raw protocol header we support, then close (a bad header).
        case rejectProtocolHeader
        case closeSocket
        /// Handshake done: tuning in force, connection open.
        case opened(Tuning, vhost: String, user: String)
        case startHeartbeats(Tuning)
        /// Check the password with the configured backends, then call `passwordChecked`.
        case checkPassword(username: String, password: String)
        case none
    }

    /// Limits agreed in tune/tune-ok.
    struct Tuning: Equatable {
        var channelMax: UInt16
        var frameMax: UInt32
        var heartbeat: UInt16
    }

    private(set) var state: State = .awaitingProtocolHeader
    private(set) var tuning: Tuning
    private(set) var clientProperties = FieldTable()
    /// The mechanism the client chose in start-ok (`PLAIN`, `AMQPLAIN`, `EXTERNAL`).
    private(set) var mechanism = ""
    /// The logged-in user, from start-ok on.
    private(set) var user: User?
    /// Why the handshake failed, for the log: the client hears at most RabbitMQ's generic
    /// login refusal, and before tuning nothing at all.
    private var closeReason: String?
    /// The user's rights in the opened vhost, from open-ok on.
    private(set) var access: ResourceAccess?
    let settings: BrokerSettings
    let isLoopbackPeer: Bool
    unowned let gate: any ConnectionGate
    /// A connection to a TLS listener: only there is EXTERNAL offered.
    let isTLS: Bool
    /// The user a verified client certificate names (per `ssl_cert_login_from`); nil on plain
    /// TCP or without a client certificate. Set when the TLS handshake completes, before the
    /// client can send the protocol header.
    var certificateUser: String?

    init(
        settings: BrokerSettings, isLoopbackPeer: Bool, gate: any ConnectionGate, isTLS: Bool = false,
        certificateUser: String? = nil
    ) {
        self.settings = settings
        self.isLoopbackPeer = isLoopbackPeer
        self.gate = gate
        self.isTLS = isTLS
        self.certificateUser = certificateUser
        self.tuning = Tuning(
            channelMax: settings.channelMax, frameMax: settings.frameMax, heartbeat: settings.heartbeat)
    }

    /// Whether the client said it understands `connection.close` on authentication failure.
    var clientCapabilities: FieldTable {
        if case .table(let capabilities)? = clientProperties["capabilities"] { return capabilities }
        return [:]
    }

    func clientHasCapability(_ name: String) -> Bool {
        clientCapabilities[name] == .bool(true)
    }

    mutating func receivedProtocolHeader(_ bytes: [UInt8]) -> Action {
        guard state == .awaitingProtocolHeader else { return .none }
        guard bytes == ProtocolHeader.amqp0091 else {
            state = .closed
            return .rejectProtocolHeader
        }
        state = .awaitingStartOk
        return .send(
            .connectionStart(
                Spec.Connection.Start(
                    versionMajor: 0, versionMinor: 9, serverProperties: ServerProperties.table,
                    mechanisms: ByteBuffer(string: offeredMechanisms.joined(separator: " ")),
                    locales: ByteBuffer(string: "en_US"))))
    }

    /// The configured mechanisms, in RabbitMQ's order (not the configuration's), EXTERNAL only
    /// on a TLS listener (whether or not this client sent a certificate, as RabbitMQ).
    var offeredMechanisms: [String] {
        [Credentials.external, "PLAIN", "AMQPLAIN"].filter { mechanism in
            settings.authMechanisms.contains(mechanism) && (mechanism != Credentials.external || isTLS)
        }
    }

    mutating func receivedMethod(_ method: AMQPMethod) -> Action {
        switch (state, method) {
        case (.closing, .connectionCloseOk), (.closing, .connectionClose):
            state = .closed
            if case .connectionClose = method { return .sendAndClose(.connectionCloseOk(.init())) }
            return .closeSocket
        case (.closing, _):
            return .none
        case (.awaitingStartOk, .connectionStartOk(let startOk)):
            return receivedStartOk(startOk)
        case (.awaitingTuneOk(let user), .connectionTuneOk(let tuneOk)):
            return receivedTuneOk(tuneOk, user: user)
        case (.awaitingOpen(let user), .connectionOpen(let open)):
            guard let authenticated = self.user else { return close(.internalError, "no user", method: method) }
            switch gate.admit(authenticated, to: open.virtualHost) {
            case .failure(let error):
                return close(error.code, error.explanation, method: method)
            case .success(let access):
                self.access = access
                state = .open(user: user, vhost: open.virtualHost)
                return .opened(tuning, vhost: open.virtualHost, user: user)
            }
        case (.open, .connectionClose), (.awaitingOpen, .connectionClose), (.awaitingTuneOk, .connectionClose):
            state = .closed
            return .sendAndClose(.connectionCloseOk(.init()))
        case (.open, _) where method.classID != Spec.Connection.Start.classID:
            // A channel-level method sent on channel 0.
            return close(.channelError, "unexpected method in connection state running", method: method)
        default:
            return close(.commandInvalid, "unexpected method \(method.name) in connection state", method: method)
        }
    }

    private mutating func receivedStartOk(_ startOk: Spec.Connection.StartOk) -> Action {
        clientProperties = startOk.clientProperties
        mechanism = startOk.mechanism
        let method = AMQPMethod.connectionStartOk(startOk)
        guard offeredMechanisms.contains(startOk.mechanism) else {
            // RabbitMQ logs a 503 and drops the socket without a word: the client is not
            // trusted with details before it has logged in.
            closeReason = "unknown authentication mechanism '\(startOk.mechanism)'"
            state = .closed
            return .closeSocket
        }
        let outcome: AccessControl.Authentication
        if startOk.mechanism == Credentials.external {
            outcome =
                certificateUser.map { gate.authenticate(certificateUser: $0) }
                ?? .refused("EXTERNAL without a client certificate that names a user")
        } else if let credentials = Credentials.parse(mechanism: startOk.mechanism, response: startOk.response) {
            if settings.authBackends != [.internal] {
                state = .authenticating(mechanism: startOk.mechanism)
                return .checkPassword(username: credentials.username, password: credentials.password)
            }
            outcome = gate.authenticate(username: credentials.username, password: credentials.password)
        } else {
            outcome = .refused("malformed \(startOk.mechanism) response")
        }
        return finishLogin(outcome, mechanism: startOk.mechanism)
    }

    /// The backends' verdict on a password handed out with `.checkPassword`.
    mutating func passwordChecked(_ outcome: AccessControl.Authentication) -> Action {
        guard case .authenticating(let mechanism) = state else { return .none }
        return finishLogin(outcome, mechanism: mechanism)
    }

    private mutating func finishLogin(_ outcome: AccessControl.Authentication, mechanism: String) -> Action {
        let refusal =
            "Login was refused using authentication mechanism \(mechanism). For details see the broker logfile."
        guard case .accepted(let user) = outcome else {
            if case .refused(let reason) = outcome { closeReason = reason }
            return refuseLogin(refusal)
        }
        guard isLoopbackPeer || !settings.loopbackUsers.contains(user.name) else {
            closeReason = "user '\(user.name)' can only connect via localhost"
            return refuseLogin(refusal)
        }
        self.user = user
        state = .awaitingTuneOk(user: user.name)
        return .send(
            .connectionTune(
                Spec.Connection.Tune(
                    channelMax: settings.channelMax, frameMax: settings.frameMax, heartbeat: settings.heartbeat)))
    }

    /// RabbitMQ closes with 403 when the client advertises `authentication_failure_close`,
    /// and otherwise just drops the socket (older clients expect that).
    private mutating func refuseLogin(_ explanation: String) -> Action {
        if clientHasCapability("authentication_failure_close") {
            // RabbitMQ's refusal names no method (class and method 0).
            return sendClose(.accessRefused, explanation, method: nil)
        }
        state = .closed
        return .closeSocket
    }

    private mutating func receivedTuneOk(_ tuneOk: Spec.Connection.TuneOk, user: String) -> Action {
        let method = AMQPMethod.connectionTuneOk(tuneOk)
        if let problem = Self.negotiationProblem(
            "frame_max", client: UInt64(tuneOk.frameMax), minimum: 4096, server: UInt64(settings.frameMax))
            ?? Self.negotiationProblem(
                "channel_max", client: UInt64(tuneOk.channelMax), minimum: 1, server: UInt64(settings.channelMax))
        {
            return close(.notAllowed, problem, method: method)
        }
        tuning = Tuning(
            channelMax: tuneOk.channelMax == 0 ? settings.channelMax : tuneOk.channelMax,
            frameMax: tuneOk.frameMax == 0 ? settings.frameMax : tuneOk.frameMax,
            heartbeat: tuneOk.heartbeat)
        state = .awaitingOpen(user: user)
        return .startHeartbeats(tuning)
    }

    /// RabbitMQ's rule for a value in tune-ok: not below the minimum, and, when the server has
    /// a limit, neither above it nor 0 ("no limit").
    static func negotiationProblem(_ field: String, client: UInt64, minimum: UInt64, server: UInt64) -> String? {
        let detail = field == "channel_max" && client == 0 ? " (no limit)" : ""
        if client != 0 && client < minimum {
            return "negotiated \(field) = \(client)\(detail) is lower than the minimum allowed value (\(minimum))"
        }
        if server != 0 && (client == 0 || client > server) {
            return "negotiated \(field) = \(client)\(detail) is higher than the maximum allowed value (\(server))"
        }
        return nil
    }

    /// Starts a server-initiated close for a hard error. Before the client is tuned, RabbitMQ
    /// says nothing (the reason goes to its log only) and drops the socket; so does Warren.
    mutating func close(_ code: ReplyCode, _ explanation: String, method: AMQPMethod?) -> Action {
        switch state {
        case .closing, .closed:
            return .none
        case .awaitingProtocolHeader, .awaitingStartOk, .authenticating, .awaitingTuneOk:
            closeReason = "\(code.rawValue) \(code.replyText(explanation))"
            state = .closed
            return .closeSocket
        case .awaitingOpen, .open:
            return sendClose(code, explanation, method: method)
        }
    }

    private mutating func sendClose(_ code: ReplyCode, _ explanation: String, method: AMQPMethod?) -> Action {
        state = .closing
        return .send(
            .connectionClose(
                Spec.Connection.Close(
                    replyCode: code.rawValue, replyText: code.replyText(explanation),
                    classID: method?.classID ?? 0, methodID: method?.methodID ?? 0)))
    }

    /// A server-initiated close whose reply text is sent as is (CONNECTION_FORCED on shutdown).
    mutating func close(code: ReplyCode, replyText: String) -> Action {
        if state == .closing || state == .closed { return .none }
        if state == .awaitingProtocolHeader {
            state = .closed
            return .closeSocket
        }
        state = .closing
        return .send(.connectionClose(Spec.Connection.Close(replyCode: code.rawValue, replyText: replyText)))
    }

    /// The reason for a handshake failure just decided, once.
    mutating func takeCloseReason() -> String? {
        defer { closeReason = nil }
        return closeReason
    }

    var isOpen: Bool {
        if case .open = state { return true }
        return false
    }
}
