extension EndpointPolicy {
    /// The built-in policy of the Sentry Payments API, under `/public/api/v1`:
    ///
    /// | Methods | Paths | Needs |
    /// | --- | --- | --- |
    /// | `GET`, `HEAD` | `/customers`, `/customers/{id}` | `customer:read` |
    /// | `POST` | `/customers` | `customer:write` |
    /// | `PUT`, `PATCH`, `DELETE` | `/customers/{id}` | `customer:write` |
    /// | `GET`, `HEAD` | `/invoices`, `/invoices/{id}` | `invoice:read` |
    /// | `POST` | `/invoices` | `invoice:write` |
    /// | `PUT`, `PATCH`, `DELETE` | `/invoices/{id}` | `invoice:write` |
    /// | `POST` | `/invoices/{id}/remind` | `invoice:remind` |
    /// | `GET`, `HEAD` | `/sales`, `/sales/{id}` | `sales:read` |
    public static let sentry: EndpointPolicy = {
        do {
            return try EndpointPolicy(prefix: "/public/api/v1") {
                Route([.get, .head], "/customers", requires: [.customerRead])
                Route([.get, .head], "/customers/{id}", requires: [.customerRead])
                Route(.post, "/customers", requires: [.customerWrite])
                Route([.put, .patch, .delete], "/customers/{id}", requires: [.customerWrite])
                Route([.get, .head], "/invoices", requires: [.invoiceRead])
                Route([.get, .head], "/invoices/{id}", requires: [.invoiceRead])
                Route(.post, "/invoices", requires: [.invoiceWrite])
                Route([.put, .patch, .delete], "/invoices/{id}", requires: [.invoiceWrite])
                Route(.post, "/invoices/{id}/remind", requires: [.invoiceRemind])
                Route([.get, .head], "/sales", requires: [.salesRead])
                Route([.get, .head], "/sales/{id}", requires: [.salesRead])
            }
        } catch {
            preconditionFailure("The built-in Sentry policy is valid: \(error)")
        }
    }()
}
