/** `scheme://[userinfo@]h1:p1,h2:p2[/path][?query][#hash]`: an authority that lists several hosts. */
const HOST_LIST = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*@)?([^/?#]*,[^/?#]*)(.*)$/i;

/**
 * A URL whose authority may list several hosts, as database clusters are addressed
 * (`mysql://user@h1:3306,h2:3306,h3:3306/`), which the WHATWG `URL` cannot parse. {@link url} is
 * the URL with the first host only (scheme, credentials, path and query read as usual);
 * {@link hosts} is the whole list (`host:port` entries, as written), absent for a single host;
 * {@link toString} puts the list back after `url` was changed (a password removed, say).
 */
export class HostListUrl {
  private constructor(
    readonly url: URL,
    readonly hosts: readonly string[] | undefined,
  ) {}

  /** Throws a `TypeError` (as `new URL` does) when `value` is not a URL. */
  static parse(value: string): HostListUrl {
    const match = HOST_LIST.exec(value);
    if (!match) return new HostListUrl(new URL(value), undefined);
    const hosts = match[3]!.split(',');
    if (hosts.some((host) => host.trim() === '')) throw new TypeError('Invalid URL: empty host in a host list');
    return new HostListUrl(new URL(`${match[1]}${match[2] ?? ''}${hosts[0]}${match[4]}`), hosts);
  }

  toString(): string {
    const text = this.url.toString();
    if (!this.hosts) return text;
    const match = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/i.exec(text)!;
    return `${match[1]}${match[2] ?? ''}${this.hosts.join(',')}${match[4]}`;
  }
}
