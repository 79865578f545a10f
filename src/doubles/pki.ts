/**
 * A throwaway PKI for tests: a P-256 CA shaped like Teleport's host CA
 * (subject `O=<cluster>, CN=<cluster>`), an Auth server certificate for
 * `teleport.cluster.local`, and client certificates whose CN is the Teleport user.
 * Generated per run with WebCrypto and @peculiar/x509, so no key material is
 * checked in.
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto);

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface ClientCertOptions {
  /** Default: valid from an hour ago for one day. */
  notBefore?: Date;
  notAfter?: Date;
}

let serial = 1;
function nextSerial(): string {
  return (serial++).toString(16).padStart(2, "0");
}

async function newKeys(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

export class TestPki {
  private constructor(
    readonly clusterName: string,
    readonly ca: x509.X509Certificate,
    private readonly caKeys: CryptoKeyPair,
  ) {}

  static async create(clusterName: string): Promise<TestPki> {
    const keys = await newKeys();
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: nextSerial(),
      name: `O=${clusterName}, CN=${clusterName}`,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + 365 * DAY_MS),
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new TestPki(clusterName, ca, keys);
  }

  get caPem(): string {
    return this.ca.toString("pem") + "\n";
  }

  /**
   * A server certificate. By default the Auth Service's: SAN DNS teleport.cluster.local
   * only; other servers (an HTTPS endpoint on loopback) pass their own names.
   */
  issueServerCert(
    names: Array<{ type: "dns" | "ip"; value: string }> = [{ type: "dns", value: "teleport.cluster.local" }],
  ): Promise<KeyPairPem> {
    return this.#issue("CN=auth", {
      extensions: [
        new x509.SubjectAlternativeNameExtension(names),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ],
    });
  }

  /** A client certificate for a Teleport user (CN = user name). */
  issueClientCert(user: string, options: ClientCertOptions = {}): Promise<KeyPairPem> {
    return this.#issue(`CN=${user}`, {
      extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
      ...options,
    });
  }

  async #issue(
    subject: string,
    options: ClientCertOptions & { extensions: x509.Extension[] },
  ): Promise<KeyPairPem> {
    const keys = await newKeys();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject,
      issuer: this.ca.subject,
      notBefore: options.notBefore ?? new Date(Date.now() - 60 * 60 * 1000),
      notAfter: options.notAfter ?? new Date(Date.now() + DAY_MS),
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: this.caKeys.privateKey,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.caKeys.publicKey),
        ...options.extensions,
      ],
    });
    return { certPem: cert.toString("pem") + "\n", keyPem: (await privateKeyPem(keys.privateKey)) + "\n" };
  }
}
