<?php
// The seed's ThinkPHP 5.1 controller (index/chat_room), its code as the seed has it. Against
// edgepush only the require and the two settings below changed: GatewayClient's
// `Gateway::$registerAddress` has no meaning here (the seed still sets it; it is ignored).
namespace app\index\controller;

use GatewayClient\Gateway;
use think\Controller;

// was: require_once 'GatewayClient/Gateway.php' (walkor/GatewayClient)
require_once __DIR__ . '/../../../../GatewayClient/Gateway.php';
Gateway::$edgepushUrl = getenv('EDGEPUSH_URL') ?: 'http://127.0.0.1:8787';
Gateway::$secretKey = getenv('PUSH_SECRET');

class ChatRoom extends Controller
{
    protected $userId;
    protected $groupId;

    // Stand-in for the seed app's login, which sets the current user and group.
    protected function initialize()
    {
        $this->userId = request()->param('uid');
        $this->groupId = request()->param('group');
    }

    // ---- from here on, the seed's code ----

    /*
    * 用户登录后初始化以及绑定client_id
    */
    public function bind()
    {
    // 设置GatewayWorker服务的Register服务ip和端口,请根据实际情况改成实际值
    Gateway::$registerAddress = '127.0.0.1:1238';
    $uid = $this->userId;
    $group_id = $this->groupId;
    $client_id = request()->param('client_id');
    // client_id与uid绑定
    Gateway::bindUid($client_id, $uid);
    // 加入某个群组(可调用多次加入多个群组)
    Gateway::joinGroup($client_id, $group_id);
    }

    // mvc后端发消息 利用GatewayClient发送 Events.php
    public function sendMessage()
    {
    // stream_socket_client(): unable to connect to tcp://127.0.0.1:1236
    $uid = $this->userId;
    $group = $this->groupId;
    $message = json_encode([
    'type'=>'say',
    'msg'=>'Hello ThinkPHP5'
    ]);
    // 设置GatewayWorker服务的Register服务ip和端口,请根据实际情况改成实际值
    Gateway::$registerAddress = '127.0.0.1:1238';
    // 向任意uid的网站页面发送数据
    Gateway::sendToUid($uid, $message);
    // 向任意群组的网站页面发送数据,如果开启,则会向页面发送两条一样的消息
    //Gateway::sendToGroup($group, $message);
    }
}
