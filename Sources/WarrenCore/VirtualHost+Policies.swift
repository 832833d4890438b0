import AMQPWire

/// Policies: set, cleared and applied to every matching queue and exchange, existing or new.
extension VirtualHost {
    /// Adds or replaces a policy (an operator policy when `isOperatorPolicy`) and re-applies
    /// policies to everything in the virtual host.
    public func setPolicy(_ policy: Policy, isOperatorPolicy: Bool = false) {
        if isOperatorPolicy {
            operatorPolicies[policy.name] = policy
        } else {
            policies[policy.name] = policy
        }
        applyPolicies()
    }

    /// Removes a policy; throws 404 when there is none by that name.
    public func clearPolicy(named policyName: String, isOperatorPolicy: Bool = false) throws {
        let removed =
            isOperatorPolicy
            ? operatorPolicies.removeValue(forKey: policyName) : policies.removeValue(forKey: policyName)
        guard removed != nil else {
            throw AMQPError(.notFound, "no policy '\(policyName)' in vhost '\(name)'")
        }
        applyPolicies()
    }

    private func applyPolicies() {
        definitionsVersion &+= 1
        for queue in queues.values {
            applyPolicies(to: queue)
        }
        for exchange in exchanges.values {
            applyPolicies(to: exchange)
        }
    }

    func applyPolicies(to queue: Queue) {
        guard !policies.isEmpty || !operatorPolicies.isEmpty || queue.policy != nil || queue.operatorPolicy != nil
        else { return }
        queue.apply(
            policy: Policy.effective(among: policies.values, for: queue.name, isQueue: true),
            operatorPolicy: Policy.effective(among: operatorPolicies.values, for: queue.name, isQueue: true))
    }

    func applyPolicies(to exchange: Exchange) {
        guard !exchange.isDefault else { return }
        exchange.policy = Policy.effective(among: policies.values, for: exchange.name, isQueue: false)
    }
}
