import NIOCore
import NIOPosix

/// Checks a password off the broker's loop and reports back on it.
protocol PasswordChecker {
    func check(username: String, password: String, completion: @escaping (Bool) -> Void)
}

/// Cyrus SASL on NIO's blocking-I/O thread pool: saslauthd may take its time, the loop never waits.
struct SASLPasswordChecker: PasswordChecker {
    let sasl: CyrusSASL
    let loop: any EventLoop

    func check(username: String, password: String, completion: @escaping (Bool) -> Void) {
        let callback = NIOLoopBound(completion, eventLoop: loop)
        let sasl = self.sasl
        let loop = self.loop
        NIOThreadPool.singleton.submit { state in
            let accepted = state == .active && sasl.checkPassword(username: username, password: password)
            loop.execute { callback.value(accepted) }
        }
    }
}

extension Broker {
    /// Tries `auth_backends` in order, as RabbitMQ does: the first backend that accepts the
    /// password wins, a refusal passes on to the next. A user accepted by SASL keeps the tags
    /// of its internal record, if it has one; its permissions always come from there.
    func checkPassword(
        username: String, password: String, completion: @escaping (AccessControl.Authentication) -> Void
    ) {
        check(settings.authBackends[...], username, password, refusal: "no authentication backend", completion)
    }

    private func check(
        _ backends: ArraySlice<BrokerSettings.AuthBackend>, _ username: String, _ password: String, refusal: String,
        _ completion: @escaping (AccessControl.Authentication) -> Void
    ) {
        guard let backend = backends.first else { return completion(.refused(refusal)) }
        switch backend {
        case .internal:
            let outcome = accessControl.authenticate(username: username, password: password)
            guard case .refused(let reason) = outcome else { return completion(outcome) }
            check(backends.dropFirst(), username, password, refusal: reason, completion)
        case .sasl:
            guard let passwordChecker, !password.isEmpty else {
                return check(backends.dropFirst(), username, password, refusal: refusal, completion)
            }
            passwordChecker.check(username: username, password: password) { [weak self] accepted in
                guard let self else { return }
                guard accepted else {
                    return self.check(
                        backends.dropFirst(), username, password, refusal: "user '\(username)' - refused by Cyrus SASL",
                        completion)
                }
                completion(
                    .accepted(self.accessControl.users[username] ?? User(name: username, passwordHash: nil, tags: [])))
            }
        }
    }
}
