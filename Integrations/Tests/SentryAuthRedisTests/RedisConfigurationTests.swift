import Testing

@testable import SentryAuthRedis

@Suite("Redis URLs")
struct RedisConfigurationTests {
    @Test("Host, port, credentials and database are read; the description hides the password")
    func parsing() throws {
        let plain = try RedisConfiguration(url: "redis://127.0.0.1")
        #expect(plain.host == "127.0.0.1" && plain.port == 6379 && plain.database == 0 && plain.password == nil)
        let full = try RedisConfiguration(url: "redis://limiter:s%40cret@cache.internal:6380/3")
        #expect(full.host == "cache.internal" && full.port == 6380 && full.database == 3)
        #expect(full.username == "limiter" && full.password == "s@cret")
        #expect(full.description == "redis://limiter:***@cache.internal:6380/3")
        #expect(!"\(full)".contains("cret"))
        let v6 = try RedisConfiguration(url: "redis://:pw@[::1]:7000/")
        #expect(v6.host == "::1" && v6.port == 7000 && v6.username == nil && v6.password == "pw")
        #expect(v6.description == "redis://:***@[::1]:7000/0")
        #expect(!plain.usesTLS && !full.usesTLS)
    }

    @Test("rediss:// is TLS, with the same credentials; the description keeps the scheme, not the password")
    func tls() throws {
        let managed = try RedisConfiguration(url: "rediss://default:tls%2Fsecret@redis.internal:6380")
        #expect(managed.usesTLS && managed.certificateAuthorityPath == nil)
        #expect(managed.username == "default" && managed.password == "tls/secret" && managed.port == 6380)
        #expect(managed.description == "rediss://default:***@redis.internal:6380/0")
        #expect(try RedisConfiguration(url: "REDISS://h").usesTLS)
    }

    @Test(
        "Unusable URLs are typed errors that never repeat the password",
        arguments: [
            "http://127.0.0.1", "redis://", "redis://:secretpw@host:0", "redis://host:99999", "redis://host/x",
            "redis://[::1", "redis://[::1]x", "redis://secretpw@:6379", "redis://:secretpw@host?ssl=true",
            "redisss://:secretpw@host", "rediss://:secretpw@host?sslrootcert=/ca.pem",
        ])
    func invalid(_ url: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("accepted \(url)")
        } catch {
            #expect(!error.description.contains("secretpw"))
            #expect(error.description.hasPrefix("Invalid Redis URL: "))
        }
    }
}
