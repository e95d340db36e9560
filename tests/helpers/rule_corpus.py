"""Verbatim rule strings from public documents and configs: the Sipura, Linksys and Cisco SPA
provisioning and administration guides, and open-source provisioning templates (FusionPBX,
wazo-provd-plugins).

`template=True` marks the strings that carry another tool's template placeholders ({{…}}, {$…})
and are therefore not valid rules.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    number: int
    text: str
    kind: str
    template: bool = False


CORPUS: tuple[Example, ...] = (
    Example(1, "/spa$PSN.cfg", "profile"),
    Example(2, "tftp://192.168.1.200/spa$MA.cfg", "profile"),
    Example(3, "http://remote.server.com/Linksys/$MA.cfg", "profile"),
    Example(4, "http://remote.server.com/cisco/$MA.cfg", "profile"),
    Example(
        5, "($REGTMR1 eq 0)? http://p.tel.com/has-reg.cfg | [--post a] http://p.tel.com/lost-reg?", "profile"
    ),
    Example(
        6,
        '("$CCERT" eq "Installed")? https://p.tel.com/config? | https://p.tel.com/config?Linksys$MAU',
        "profile",
    ),
    Example(
        7,
        '("$A" ne "Provisioned")? (Line_Enable_1_ = "No";)! https://p.tel.com/init-prov | https://p.tel.com/configs',
        "profile",
    ),
    Example(8, "[--alias b] https://p.tel.com/account/spa$MA.xml", "profile"),
    Example(9, "[--alias b] https://p.tel.com/account/$PN$MA.xml", "profile"),
    Example(
        10,
        "($PRVTMR ge 600)? http://p.tel.com/has-reg.cfg | [--post a] http://p.tel.com/lost-reg?",
        "profile",
    ),
    Example(11, '[--key "SecretPhrase1234"] http://prov.telco.com/path/profile.cfg', "profile"),
    Example(12, "[--key $SA] http://ps.callme.com/profiles/abcdefg.cfg", "profile"),
    Example(13, "[--post f ] http://ps.one.com/cpe/resyncs?", "profile"),
    Example(14, "[--alias m ] http://acct.voipservice.net/credentials/spa$MA.xml", "profile"),
    Example(15, "[--alias a ] tftp://192.168.1.200/customer.xml", "profile"),
    Example(16, "tftp://192.168.1.200/basic2.txt", "profile"),
    Example(17, "tftp://prov.telco.com:6900/Linksys/config/spa2102.cfg", "profile"),
    Example(18, "/$MA.cfg", "profile"),
    Example(19, "192.168.1.130/profiles/init.cfg", "profile"),
    Example(20, "tftp://prov.call.com/cpe/Linksys$MA.cfg", "profile"),
    Example(21, "http://neptune.speak.net:8080/prov/$D/$E.cfg", "profile"),
    Example(22, "https://secure.me.com/profile?Linksys", "profile"),
    Example(23, "[--key $A] tftp.callme.com/profile/$B/spa2000.cfg", "profile"),
    Example(24, "tftp://spa-9000-ip-address:69/cfg/init_$MA.xml", "profile"),
    Example(25, "tftp://192.168.1.5/spa942.cfg", "profile"),
    Example(
        26,
        '("$EMS" eq "mobile" and "$MUID" ne "" and "$MPWD" ne "")?[--uid $MUID$PDOM --pwd $MPWD] '
        "http://10.74.121.51:80/dms/CP-8851-3PCC/8851System.xml|"
        "http://10.74.121.51:80/dms/CP-8851-3PCC/8851System.xml",
        "profile",
    ),
    Example(
        27,
        "[--uid $SA --pwd $SB] https://provisioning_server_url/path_to_your_config/your_config.xml",
        "profile",
    ),
    Example(28, "( $SWVER ne 2.0.6 )? http://ps.tell.com/sw/spa021024.bin", "upgrade"),
    Example(29, "http://p.tel.com/firmware/spa021025.bin", "upgrade"),
    Example(30, "(! 1.0.2)? /spa2000/1-00-02/spa.bin", "upgrade"),
    Example(31, "(<1.0)? tftp://pserv.myvoice.com:42001/upg/spa2000/1.0.2/spa.bin", "upgrade"),
    Example(
        32,
        "($SWVER lt 7.5.2b) ? {{ XX_server_url }}/firmware/spa50x-30x-7-5-2b.bin | "
        "{{ XX_server_url }}/firmware/spa50x-30x-7-5-5.bin",
        "upgrade",
        template=True,
    ),
    Example(33, "http://{{ ip }}:{{ http_port }}/firmware/spa525g-7-5-5.bin", "upgrade", template=True),
    Example(
        34,
        "($SWVER ge sip78xx.11-0-0MPP-7)? HTTP://SERVER_ADDRESS/sip78xx.11-2-1MES-3.loads| "
        "HTTP://SERVER_ADDRESS/sip78xx.11-0-0MPP-7.loads",
        "upgrade",
    ),
    Example(
        35,
        "($SWVER ne sip7832.11-3-2MPP0001-609)? http://ps.tell.com/sw/sip7832.11-3-2MPP0001-BN.loads",
        "upgrade",
    ),
    Example(36, "[ --key secretphrase ] http://prov.serv.net/spa/$MA/rep.xml.enc", "report"),
    Example(37, "[ --key $K ] tftp://ps.callhome.net/$MA/rep.xml.enc", "report"),
    Example(38, "[ --delta ] http://reportTargetServer/reportPath/$PN_$MA_$SN.xml", "report"),
    Example(39, "$REGTMR1 gt 300 and $PRVTMR ge 600", "trigger"),
    Example(40, "$UPGTMR gt 300 and $PRVTMR ge 600", "trigger"),
    Example(41, '$REGTMR1 gt 300 and $PRVTMR gt 1200 and "$EXTIP" ne ""', "trigger"),
    Example(42, '$SWVER ge 2.0.6 and "$CCERT" eq "Installed"', "trigger"),
    Example(
        43, "[--key {{ XX_key }}] http://{{ ip }}:{{ http_port }}/$MA.xml.encrypted", "profile", template=True
    ),
    Example(44, "http://{{ ip }}:{{ http_port }}/spa.xml", "profile", template=True),
    Example(
        45,
        "[--uid {$http_auth_username} --pwd {$http_auth_password}]"
        "http://{$domain_name}{$project_path}/app/provision/?mac=$MA",
        "profile",
        template=True,
    ),
    Example(46, "tftp://{$server.ip.1}/spa$MA.xml", "profile", template=True),
    Example(47, "tftp://{$SERVER_IP}/spa{$MAC_ADDRESS}.cfg", "profile", template=True),
)

VALID = tuple(example for example in CORPUS if not example.template)
SEED_RULE = (
    '("$EMS" eq "mobile" and "$MUID" ne "" and "$MPWD" ne "") ? [--uid $MUID$PDOM --pwd $MPWD] '
    'http://domain.com/mobilephone.cfg | ("$PUID" ne "" and "$PPWD" ne "") ? '
    "[--uid $PUID$PDOM --pwd $PPWD] http://domain.com/hostphone.cfg | http://domain.com/default.cfg"
)
