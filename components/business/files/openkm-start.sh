#!/bin/bash
# Start script of the OpenKM CE container (itstack): points OpenKM at its PostgreSQL database and
# the stack's mail server by editing the image's own Tomcat configuration, then starts Tomcat.
#   - conf/server.xml: the JNDI resources jdbc/OpenKMDS (database) and mail/OpenKM (SMTP);
#   - OpenKM.cfg: hibernate.dialect (PostgreSQL) and hibernate.hbm2ddl.
# hibernate.hbm2ddl=create makes OpenKM create its tables and load its initial data (users,
# roles, settings) and DROPS existing tables, so it is used only until the first start has
# answered; a marker in the repository volume then switches it to "none" for good.
set -o errexit -o nounset -o pipefail

home="${OPENKM_HOME:-/opt/tomcat}"
server_xml="${home}/conf/server.xml"
cfg="${home}/OpenKM.cfg"
marker="${home}/repository/.itstack-schema-created"
for f in "$server_xml" "$cfg"; do
    [[ -f "$f" ]] || { echo "itstack: $f not found in this image; cannot configure OpenKM" >&2; exit 1; }
done

# Tomcat loads the JNDI data source's driver from its own lib directory.
if ! compgen -G "${home}/lib/postgresql*.jar" >/dev/null; then
    [[ -f "${ITSTACK_JDBC_JAR:-}" ]] || { echo "itstack: no PostgreSQL JDBC driver in ${home}/lib nor at ${ITSTACK_JDBC_JAR:-(unset)}" >&2; exit 1; }
    cp "$ITSTACK_JDBC_JAR" "${home}/lib/"
fi

ds="<Resource name=\"jdbc/OpenKMDS\" auth=\"Container\" type=\"javax.sql.DataSource\" maxActive=\"100\" maxIdle=\"30\" maxWait=\"10000\" validationQuery=\"select 1\" driverClassName=\"org.postgresql.Driver\" url=\"jdbc:postgresql://${OKM_DB_HOST}:${OKM_DB_PORT}/${OKM_DB_NAME}\" username=\"${OKM_DB_USER}\" password=\"${OKM_DB_PASSWORD}\"/>"
ITSTACK_DS="$ds" perl -0pi -e 's{<Resource\s+name="jdbc/OpenKMDS".*?/>}{$ENV{ITSTACK_DS}}s' "$server_xml"
grep -q 'org.postgresql.Driver' "$server_xml" || { echo "itstack: jdbc/OpenKMDS not found in $server_xml" >&2; exit 1; }

if [[ -n "${OKM_SMTP_HOST:-}" ]]; then
    mail="<Resource name=\"mail/OpenKM\" auth=\"Container\" type=\"javax.mail.Session\" mail.smtp.host=\"${OKM_SMTP_HOST}\" mail.smtp.port=\"${OKM_SMTP_PORT}\" mail.smtp.auth=\"true\" mail.smtp.starttls.enable=\"true\" mail.smtp.starttls.required=\"true\" mail.smtp.user=\"${OKM_SMTP_USER}\" password=\"${OKM_SMTP_PASSWORD}\" mail.from=\"${OKM_SMTP_FROM}\"/>"
    ITSTACK_MAIL="$mail" perl -0pi -e 's{<Resource\s+name="mail/OpenKM".*?/>}{$ENV{ITSTACK_MAIL}}s' "$server_xml"
fi

set_cfg() {  # set_cfg key value: replace or append a key of OpenKM.cfg
    if grep -qE "^[#[:space:]]*$1=" "$cfg"; then
        sed -i -E "s|^[#[:space:]]*$1=.*|$1=$2|" "$cfg"
    else
        printf '%s=%s\n' "$1" "$2" >> "$cfg"
    fi
}
# Only one dialect line may stay active.
sed -i -E 's|^(hibernate\.dialect=)|#\1|' "$cfg"
printf 'hibernate.dialect=org.hibernate.dialect.PostgreSQLDialect\n' >> "$cfg"
if [[ -f "$marker" ]]; then
    set_cfg hibernate.hbm2ddl none
else
    set_cfg hibernate.hbm2ddl create
    probe="exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /OpenKM/login.jsp HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200'"
    # Mark the schema as created once OpenKM serves its login page.
    (
        until bash -c "$probe" 2>/dev/null; do sleep 10; done
        touch "$marker"
    ) &
fi

exec "${home}/bin/catalina.sh" run
