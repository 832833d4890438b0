/// A user of the internal database: what logs in, and what the management tags allow.
struct User: Sendable {
    var name: String
    /// nil: no password, so only EXTERNAL (a client certificate) can log in as this user.
    var passwordHash: PasswordHash?
    /// Free-form like RabbitMQ's (`administrator`, `monitoring`, `management`, `policymaker`,
    /// `impersonator`), kept in the order given.
    var tags: [String]

    /// May publish messages whose `user-id` names another user.
    var isImpersonator: Bool { tags.contains("impersonator") }
}
