# Managed by itstack: configures Zammad after its database is migrated and seeded.
# Run with `/docker-entrypoint.sh bundle exec rails r <this file>` (the entrypoint exports
# DATABASE_URL). Every value comes from ITSTACK_* environment variables; re-running is safe.
#
# Upstream references (Zammad 6.5):
# - settings `fqdn`, `http_type`, `system_init_done`, `monitoring_token` (db/seeds/settings.rb)
# - OpenID Connect: settings `auth_openid_connect` and `auth_openid_connect_credentials`
#   {display_name, identifier, issuer, uid_field, scope, pkce}; lib/omniauth/strategies/oidc_database.rb
# - `auth_third_party_auto_link_at_inital_login` (sic): link an OIDC login to the user with that email
# - LDAP: model LdapSource, preferences as in spec/factories/ldap_source.rb; group_role_map
#   {group DN => [role ids]} (lib/ldap/group.rb); setting `ldap_integration`; ImportJob.start_registered
# - notification mail: Channel area 'Email::Notification', outbound adapter 'smtp'
#   (app/models/channel/driver/smtp.rb option keys host, port, user, password, ssl_verify)

def env(name)
  ENV.fetch(name)
end

def env?(name)
  ENV[name].present?
end

UserInfo.current_user_id = 1

Setting.set('fqdn', env('ITSTACK_FQDN'))
Setting.set('http_type', 'https')
Setting.set('organization', env('ITSTACK_ORGANIZATION'))
Setting.set('monitoring_token', env('ITSTACK_MONITORING_TOKEN'))
# Users come from the directory (LDAP sync) and sign in through Keycloak; nobody signs up.
Setting.set('user_create_account', false)

# Break-glass administrator, local password (random, a Pulumi secret).
admin_email = env('ITSTACK_ADMIN_EMAIL')
admin = User.find_by(email: admin_email) || User.new(login: admin_email, email: admin_email)
admin.firstname = 'IT-Stack'
admin.lastname = 'Administrator'
admin.password = env('ITSTACK_ADMIN_PASSWORD')
admin.active = true
admin.roles = Role.where(name: %w[Admin Agent])
admin.save!
Setting.set('system_init_done', true)

# Single sign-on: Keycloak as OpenID provider (public client with PKCE, as Zammad requires),
# only while the stack's sso:keycloak->zammad integration is on; off, the sign-in is removed.
if env?('ITSTACK_OIDC_CLIENT_ID')
Setting.set('auth_openid_connect_credentials', {
  'display_name' => env('ITSTACK_OIDC_DISPLAY_NAME'),
  'identifier'   => env('ITSTACK_OIDC_CLIENT_ID'),
  'issuer'       => env('ITSTACK_OIDC_ISSUER'),
  'uid_field'    => 'sub',
  'scope'        => 'openid email profile',
  'pkce'         => true,
  'discovery'    => true,
})
Setting.set('auth_openid_connect', true)
Setting.set('auth_third_party_auto_link_at_inital_login', true)
else
  Setting.set('auth_openid_connect', false)
end

# Directory: users and their roles from FreeIPA groups (Zammad 6.5 cannot map OIDC claims to roles).
if env?('ITSTACK_LDAP_HOST')
  role_id = ->(name) { Role.find_by!(name: name).id.to_s }
  group_role_map = {
    env('ITSTACK_LDAP_ADMIN_GROUP_DN').downcase => [role_id.call('Admin'), role_id.call('Agent')],
    env('ITSTACK_LDAP_AGENT_GROUP_DN').downcase => [role_id.call('Agent')],
  }
  source = LdapSource.find_or_initialize_by(name: 'FreeIPA')
  source.preferences = {
    'host'             => env('ITSTACK_LDAP_HOST'),
    'ssl'              => env('ITSTACK_LDAP_SSL'),
    'ssl_verify'       => false,
    'base_dn'          => env('ITSTACK_LDAP_BASE_DN'),
    'option'           => env('ITSTACK_LDAP_BASE_DN'),
    'options'          => { env('ITSTACK_LDAP_BASE_DN') => env('ITSTACK_LDAP_BASE_DN') },
    'bind_user'        => env('ITSTACK_LDAP_BIND_DN'),
    'bind_pw'          => env('ITSTACK_LDAP_BIND_PASSWORD'),
    'user_uid'         => 'uid',
    'user_filter'      => '(&(objectClass=inetOrgPerson)(uid=*))',
    'user_attributes'  => { 'uid' => 'login', 'givenname' => 'firstname', 'sn' => 'lastname',
                            'mail' => 'email', 'telephonenumber' => 'phone' },
    'group_uid'        => 'dn',
    'group_filter'     => '(objectClass=groupOfNames)',
    'group_role_map'   => group_role_map,
    # Directory users in neither group become customers (Zammad's sign-up roles).
    'unassigned_users' => 'sigup_roles',
  }
  source.active = true
  source.created_by_id ||= 1
  source.updated_by_id = 1
  source.save!
  Setting.set('ldap_integration', true)
  begin
    ImportJob.start_registered
  rescue => e
    warn "itstack: first LDAP sync failed (the scheduler retries hourly): #{e.message}"
  end
end

# Outgoing notifications through the stack's mail server, from Zammad's own mailbox.
if env?('ITSTACK_SMTP_HOST')
  channels = Channel.where(area: 'Email::Notification').to_a
  adapter = ->(c) { c.options.dig(:outbound, :adapter) || c.options.dig('outbound', 'adapter') }
  smtp = channels.find { |c| adapter.call(c).to_s == 'smtp' } ||
         Channel.new(area: 'Email::Notification', created_by_id: 1, preferences: {})
  smtp.options = {
    outbound: {
      adapter: 'smtp',
      options: {
        host:                 env('ITSTACK_SMTP_HOST'),
        port:                 env('ITSTACK_SMTP_PORT').to_i,
        user:                 env('ITSTACK_SMTP_USER'),
        password:             env('ITSTACK_SMTP_PASSWORD'),
        enable_starttls_auto: true,
        # iRedMail's certificate is its own self-signed one.
        ssl_verify:           false,
      },
    },
  }
  smtp.active = true
  smtp.updated_by_id = 1
  smtp.save!
  channels.each { |c| c.update!(active: false) if c.id != smtp.id && c.active }
  Setting.set('notification_sender', "#{env('ITSTACK_ORGANIZATION')} Helpdesk <#{env('ITSTACK_SMTP_FROM')}>")
end

puts 'itstack: zammad configured'
